#!/usr/bin/env bash
# Seed 001 by hand, as nuvla/deployment's "Docker Swarm Infrastructures" guide does it,
# scripted with the docker CLI and OpenSSH, step by step in the order of
# workflows/hosts.yml and workflows/infrastructure.yml: what benches/seed_nuvla.rs times
# beside one `shoal apply` on the same five bare lab nodes. Nothing here is clever: one
# host after the other, each command waited for, as an operator following the guide would.
#
# The files were prepared before the clock started (an operator writes them before the
# day of the installation): the hosts' and the stacks' files as `shoal render --out
# FILES/rendered` wrote them (a host's under rendered/hosts/hosts/nodeN/). Environment: LAB (the lab's folder: each node's engine is LAB/nodeN/docker.sock),
# NODES (the five addresses, node 1 first), KEY and KNOWN_HOSTS (the lab's SSH login),
# FILES, SHARE (the NFS share), CA_CERT and CA_KEY (the CA of Traefik's certificate),
# DOMAIN.
set -euo pipefail

read -ra nodes <<< "$NODES"
ssh_options=(-i "$KEY" -o "UserKnownHostsFile=$KNOWN_HOSTS" -o StrictHostKeyChecking=yes -o BatchMode=yes)
on_host() { local node=$1; shift; ssh "${ssh_options[@]}" "root@${nodes[node - 1]}" "$@"; }
copy_to() { scp -q "${ssh_options[@]}" "$2" "root@${nodes[$1 - 1]}:$3"; }
docker_on() { local node=$1; shift; docker -H "unix://$LAB/node$node/docker.sock" "$@"; }

# 1. The firewall table on every node.
for node in 1 2 3 4 5; do
    copy_to "$node" "$FILES/rendered/hosts/hosts/node$node/etc/shoal-firewall.rules" /etc/shoal-firewall.rules
    on_host "$node" 'chmod 600 /etc/shoal-firewall.rules &&
        iptables-restore --noflush /etc/shoal-firewall.rules &&
        { iptables -C INPUT -j SHOAL-INPUT 2>/dev/null || iptables -I INPUT 1 -j SHOAL-INPUT; }'
done

# 2. The NFS server and its share, on node 4.
copy_to 4 "$FILES/rendered/hosts/hosts/node4/etc/exports" /etc/exports
on_host 4 "mkdir -p '$SHARE' && chown nobody:nogroup '$SHARE' && chmod 777 '$SHARE' &&
    systemctl enable --now nfs-kernel-server && exportfs -ra"

# 3. The swarm: initialised on node 1, managers 2 and 3 and workers 4 and 5 joined.
docker_on 1 swarm init --advertise-addr "${nodes[0]}" --listen-addr "${nodes[0]}:2377" >/dev/null
manager_token=$(docker_on 1 swarm join-token --quiet manager)
worker_token=$(docker_on 1 swarm join-token --quiet worker)
for node in 2 3 4 5; do
    token=$worker_token
    [[ $node -le 3 ]] && token=$manager_token
    address=${nodes[node - 1]}
    docker_on "$node" swarm join --token "$token" --advertise-addr "$address" \
        --listen-addr "$address:2377" "${nodes[0]}:2377" >/dev/null
done

# 4. The NFS server's node label.
docker_on 1 node update --label-add nfs-server=true node4 >/dev/null

# 5. The traefik-public network.
docker_on 1 network create --driver overlay --attachable \
    --label org.nuvla.infrastructure=network traefik-public >/dev/null

# 6. Traefik's default certificate, issued by the CA with openssl, into three secrets.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/key.pem" -out "$work/request.pem" -subj "/CN=$DOMAIN" \
    -addext "subjectAltName=DNS:$DOMAIN,DNS:*.$DOMAIN" 2>/dev/null
openssl x509 -req -in "$work/request.pem" -CA "$CA_CERT" -CAkey "$CA_KEY" \
    -CAcreateserial -days 365 -copy_extensions copy -out "$work/cert.pem" 2>/dev/null
docker_on 1 secret create traefik-default-cert.pem "$work/cert.pem" >/dev/null
docker_on 1 secret create traefik-default-key.pem "$work/key.pem" >/dev/null
docker_on 1 secret create traefik-ca.pem "$CA_CERT" >/dev/null

# 7. The stacks, each waited for until every service runs all its tasks (polled every
# half second: `docker stack deploy --detach=false` would also watch each service for 5 s
# after it converged, which shoal does not).
converged() {
    local replicas
    replicas=$(docker_on 1 stack services "$1" --format '{{.Replicas}}')
    [[ -n "$replicas" ]] || return 1
    while read -r count _; do
        [[ "${count%%/*}" == "${count##*/}" && "${count%%/*}" != 0 ]] || return 1
    done <<< "$replicas"
}
for stack in traefik monitoring minio; do
    docker_on 1 stack deploy --detach=true \
        -c "$FILES/rendered/infrastructure/stacks/$stack/docker-compose.yml" "$stack" >/dev/null
    until converged "$stack"; do sleep 0.5; done
done

# 8. The endpoints, as a config for registering the swarm in Nuvla.
docker_on 1 config create --label org.nuvla.infrastructure=endpoints \
    nuvla-infrastructure-endpoints \
    "$FILES/rendered/infrastructure/stacks/infrastructure/endpoints.yml" >/dev/null
