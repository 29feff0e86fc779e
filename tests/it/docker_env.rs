//! The private Docker engine the tests run against is real, private, a swarm manager, and
//! runs services from the test images, whose host-mode published ports answer at the
//! engine's address, in its network namespace.

use std::time::{Duration, Instant};

use crate::support::{PrivateSwarm, free_tcp_port, http_get_at};

const TASK_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn private_swarm_is_an_active_swarm_manager() {
    let swarm = PrivateSwarm::shared();
    let state = swarm.run_docker(&[
        "info",
        "--format",
        "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
    ]);
    assert_eq!(state.trim(), "active true");
}

#[test]
fn private_swarm_is_not_the_system_engine() {
    let swarm = PrivateSwarm::shared();
    let folder = swarm.folder();
    assert!(folder.starts_with("/tmp"), "{}", folder.display());
    assert_eq!(
        swarm.docker_host(),
        format!("unix://{}/docker.sock", folder.display())
    );
    // The engine that answers on that socket keeps its data in the folder too.
    let data_root = swarm.run_docker(&["info", "--format", "{{.DockerRootDir}}"]);
    assert_eq!(data_root.trim(), folder.join("data").to_string_lossy());
}

#[test]
fn service_from_test_image_runs_its_task() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:1");
    let service = swarm.unique_name("idle");
    swarm.run_docker(&[
        "service",
        "create",
        "--detach",
        // The image exists only here; asking a registry for its digest would only fail.
        "--no-resolve-image",
        "--name",
        &service,
        &image,
    ]);
    swarm.wait_for_running_tasks(&service, 1, TASK_TIMEOUT);
    swarm.run_docker(&["service", "rm", &service]);
}

#[test]
fn host_mode_published_port_serves_http_at_the_engine_address() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:1");
    let service = swarm.unique_name("web");
    let network = swarm.unique_name("web-net");
    let port = free_tcp_port();
    let greeting = format!("hello from {service}");

    // The engine has no default bridge (`--bridge none`): a published port reaches a task
    // through docker_gwbridge, which a task joins when it is on an overlay network.
    swarm.run_docker(&["network", "create", "--driver", "overlay", &network]);
    swarm.run_docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--name",
        &service,
        "--network",
        &network,
        "--publish",
        &format!("mode=host,target=8080,published={port}"),
        &image,
        "sh",
        "-c",
        &format!("echo '{greeting}' > /www/index.html && exec httpd -f -p 8080 -h /www"),
    ]);
    swarm.wait_for_running_tasks(&service, 1, TASK_TIMEOUT);

    // A running task may not listen yet, and docker-proxy accepts connections before it does.
    let deadline = Instant::now() + TASK_TIMEOUT;
    let response = loop {
        match http_get_at(swarm.address(), port, "/", Duration::from_secs(5)) {
            Ok(response) if response.status == 200 => break response,
            outcome if Instant::now() > deadline => {
                panic!(
                    "{}:{port} did not serve the page in time; last: {outcome:?}",
                    swarm.address()
                )
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    assert_eq!(response.body.trim(), greeting);

    swarm.run_docker(&["service", "rm", &service]);
}
