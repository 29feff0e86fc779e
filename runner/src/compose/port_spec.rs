//! The short port syntax, `[ip:][published[-end]:]target[-end][/protocol]`, read as docker
//! reads it (`nat.ParsePortSpec` and `swarmopts.ConvertPortToPortConfig`): each target port
//! becomes one port in ingress mode, a published range with a single target port becomes
//! one port per published port, and the IP address is ignored (Swarm publishes on all).

use super::compose_config::PortConfig;

/// The ports one short-syntax entry stands for, in docker's order (by `port/protocol`
/// text, then by published port).
pub fn parse_port_spec(text: &str) -> Result<Vec<PortConfig>, String> {
    // The last part is the target, the one before the published port, the rest the IP.
    let mut parts = text.rsplitn(3, ':');
    let target = parts.next().unwrap_or_default();
    let published = parts.next().unwrap_or_default();
    let ip = parts.next().unwrap_or_default();
    let (protocol, target) = split_protocol(target);
    let ip = match ip.strip_prefix('[') {
        Some(bracketed) => bracketed
            .strip_suffix(']')
            .ok_or_else(|| format!("invalid IP address `{ip}`"))?,
        None => ip,
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address `{ip}`"));
    }
    if target.is_empty() {
        return Err(format!("no port specified in `{text}`"));
    }
    let (target_start, target_end) =
        parse_range(target).ok_or_else(|| format!("invalid container port `{target}`"))?;
    let published_range = if published.is_empty() {
        None
    } else {
        Some(
            parse_range(published)
                .ok_or_else(|| format!("invalid published port `{published}`"))?,
        )
    };
    if let Some((start, end)) = published_range
        && end - start != target_end - target_start
        && target_end != target_start
    {
        return Err(format!(
            "the port ranges `{published}` and `{target}` are not the same length"
        ));
    }
    let protocol = protocol.to_ascii_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!(
            "invalid protocol `{protocol}`; use tcp, udp or sctp"
        ));
    }
    // One mapping per target port; a single target port with a published range keeps the
    // whole range, which then becomes one port per published port.
    let mut mappings: Vec<(String, u32, Vec<u32>)> = Vec::new();
    for offset in 0..=(target_end - target_start) {
        let target_port = target_start + offset;
        let published_ports: Vec<u32> = match published_range {
            None => vec![0],
            Some((start, end)) if target_start == target_end => (start..=end).collect(),
            Some((start, _)) => vec![start + offset],
        };
        mappings.push((
            format!("{target_port}/{protocol}"),
            target_port,
            published_ports,
        ));
    }
    mappings.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(mappings
        .into_iter()
        .flat_map(|(_, target, published)| {
            let protocol = protocol.clone();
            published.into_iter().map(move |published| PortConfig {
                mode: "ingress".to_owned(),
                target,
                published,
                protocol: protocol.clone(),
            })
        })
        .collect())
}

/// `port/protocol`, with `tcp` when no protocol is given.
fn split_protocol(text: &str) -> (&str, &str) {
    let mut parts = text.split('/');
    let port = parts.next().unwrap_or("");
    if port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(protocol) => (protocol, port),
    }
}

/// `8080` or `8000-8010`, ports from 0 to 65535.
fn parse_range(text: &str) -> Option<(u32, u32)> {
    let port = |part: &str| -> Option<u32> {
        if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse::<u16>().ok().map(u32::from)
    };
    match text.split_once('-') {
        None => port(text).map(|p| (p, p)),
        Some((start, rest)) => {
            let end = rest.split('-').next().unwrap_or("");
            let (start, end) = (port(start)?, port(end)?);
            (end >= start).then_some((start, end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &[(u32, u32, &str)]) {
        let ports = parse_port_spec(text).expect(text);
        let actual: Vec<(u32, u32, &str)> = ports
            .iter()
            .map(|p| (p.published, p.target, p.protocol.as_str()))
            .collect();
        assert_eq!(actual, expected, "{text}");
        assert!(ports.iter().all(|p| p.mode == "ingress"));
    }

    #[test]
    fn reads_short_port_syntax() {
        check("80", &[(0, 80, "tcp")]);
        check("8080:80", &[(8080, 80, "tcp")]);
        check("9090:90/udp", &[(9090, 90, "udp")]);
        check("127.0.0.1:5000:5000", &[(5000, 5000, "tcp")]);
        check("[::1]:6000:6000/UDP", &[(6000, 6000, "udp")]);
        check("3000-3001", &[(0, 3000, "tcp"), (0, 3001, "tcp")]);
        check(
            "8000-8001:9000-9001",
            &[(8000, 9000, "tcp"), (8001, 9001, "tcp")],
        );
        check(
            "8000-8002:80",
            &[(8000, 80, "tcp"), (8001, 80, "tcp"), (8002, 80, "tcp")],
        );
        // Sorted as text, like docker: "10/tcp" comes before "9/tcp".
        check("9-10", &[(0, 10, "tcp"), (0, 9, "tcp")]);
    }

    #[test]
    fn rejects_bad_ports() {
        for text in [
            "",
            "x",
            "70000",
            "1.2.3:80:80",
            "80/icmp",
            "8000-8001:90-92",
            "5-3",
        ] {
            assert!(parse_port_spec(text).is_err(), "{text}");
        }
    }
}
