//! Real git servers on loopback, each in a temporary folder of its own: git's
//! `http-backend` behind Debian's lighttpd over TLS with basic auth, and OpenSSH's sshd
//! serving `git-upload-pack`. Their keys and certificates are made fresh by `openssl`
//! and `ssh-keygen`; `scripts/install-test-deps` installs all of them.

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_tcp_port, run_successfully, write_file};

const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
const INSTALL_HINT: &str = "install it with `scripts/install-test-deps`; these tests never skip";

/// lighttpd serving every repository under a folder at `https://127.0.0.1:PORT/git/NAME`
/// (or `http://` without TLS), to clients that send the token as the password of user
/// `x-access-token`.
pub struct HttpGitServer {
    folder: tempfile::TempDir,
    port: u16,
    scheme: &'static str,
    process: Child,
}

/// sshd on 127.0.0.1, letting in the current user with one key.
pub struct SshGitServer {
    folder: tempfile::TempDir,
    port: u16,
    user: String,
    process: Child,
}

impl HttpGitServer {
    /// Over TLS, with a certificate signed by [`HttpGitServer::ca_file`].
    pub fn start(repositories: &Path, token: &str) -> HttpGitServer {
        let folder = tempfile::tempdir().expect("temp");
        make_certificates(folder.path());
        let tls = format!(
            "ssl.engine = \"enable\"\nssl.pemfile = \"{base}/server.pem\"\nssl.privkey = \"{base}/server.key\"\n",
            base = folder.path().display()
        );
        HttpGitServer::launch(folder, repositories, token, "https", &tls)
    }

    /// Plain http, for what must never go over it.
    pub fn start_without_tls(repositories: &Path, token: &str) -> HttpGitServer {
        let folder = tempfile::tempdir().expect("temp");
        HttpGitServer::launch(folder, repositories, token, "http", "")
    }

    fn launch(
        folder: tempfile::TempDir,
        repositories: &Path,
        token: &str,
        scheme: &'static str,
        tls: &str,
    ) -> HttpGitServer {
        let base = folder.path();
        let port = free_tcp_port();
        let backend = run_successfully(Command::new("git").arg("--exec-path"), TOOL_TIMEOUT)
            .trim()
            .to_owned();
        write_file(base, "users", &format!("x-access-token:{token}\n"));
        write_file(base, "www/index.html", "shoal test server\n");
        write_file(
            base,
            "lighttpd.conf",
            &format!(
                r#"server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_auth", "mod_authn_file", "mod_openssl")
server.document-root = "{base}/www"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{base}/error.log"
{tls}auth.backend = "plain"
auth.backend.plain.userfile = "{base}/users"
auth.require = ("/git/" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
alias.url = ("/git/" => "{backend}/git-http-backend/")
$HTTP["url"] =~ "^/git/" {{
    cgi.assign = ("" => "")
    setenv.add-environment = ("GIT_PROJECT_ROOT" => "{repositories}", "GIT_HTTP_EXPORT_ALL" => "1")
}}
"#,
                base = base.display(),
                repositories = repositories.display(),
            ),
        );
        let process = Command::new(system_program("lighttpd"))
            .arg("-D")
            .arg("-f")
            .arg(base.join("lighttpd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("lighttpd does not start ({error}): {INSTALL_HINT}"));
        let server = HttpGitServer {
            folder,
            port,
            scheme,
            process,
        };
        wait_for_port(port, &server.folder.path().join("error.log"));
        server
    }

    pub fn url(&self, repository: &str) -> String {
        format!("{}://127.0.0.1:{}/git/{repository}", self.scheme, self.port)
    }

    /// The PEM file of the certificate authority that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.folder.path().join("ca.pem")
    }
}

impl SshGitServer {
    pub fn start() -> SshGitServer {
        let folder = tempfile::tempdir().expect("temp");
        let base = folder.path();
        let port = free_tcp_port();
        ssh_keygen(&base.join("host_key"));
        ssh_keygen(&base.join("client_key"));
        std::fs::copy(base.join("client_key.pub"), base.join("authorized_keys"))
            .expect("authorized_keys");
        // sshd refuses to start without its privilege separation folder.
        let _ = std::fs::create_dir_all("/run/sshd");
        write_file(
            base,
            "sshd_config",
            &format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {base}/host_key\nPidFile {base}/sshd.pid\n\
                 AuthorizedKeysFile {base}/authorized_keys\nStrictModes no\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n",
                base = base.display()
            ),
        );
        let log = base.join("sshd.log");
        let process = Command::new(system_program("sshd"))
            .arg("-D")
            .arg("-f")
            .arg(base.join("sshd_config"))
            .arg("-E")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("sshd does not start ({error}): {INSTALL_HINT}"));
        let user = run_successfully(Command::new("id").arg("-un"), TOOL_TIMEOUT)
            .trim()
            .to_owned();
        let server = SshGitServer {
            folder,
            port,
            user,
            process,
        };
        wait_for_port(port, &log);
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ssh://USER@127.0.0.1:PORT/PATH`.
    pub fn url(&self, repository: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repository.display()
        )
    }

    /// The private key sshd lets in.
    pub fn client_key(&self) -> PathBuf {
        self.folder.path().join("client_key")
    }

    /// The server's public host key, as in a `.pub` file: `TYPE BASE64 COMMENT`.
    pub fn host_public_key(&self) -> PathBuf {
        self.folder.path().join("host_key.pub")
    }

    /// A known_hosts line for this server and `public_key_file`.
    pub fn known_hosts_line(&self, public_key_file: &Path) -> String {
        let public = std::fs::read_to_string(public_key_file).expect("public key");
        let mut fields = public.split_whitespace();
        let key_type = fields.next().expect("key type");
        let key = fields.next().expect("key");
        format!("[127.0.0.1]:{} {key_type} {key}\n", self.port)
    }
}

/// Makes a fresh ed25519 key pair without passphrase: `path` and `path.pub`.
pub fn ssh_keygen(path: &Path) {
    run_successfully(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "shoal-test", "-f"])
            .arg(path),
        TOOL_TIMEOUT,
    );
}

impl Drop for HttpGitServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for SshGitServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A certificate authority (`ca.pem`) and a server certificate it signed for 127.0.0.1
/// (`server.pem`, `server.key`), valid for a day.
fn make_certificates(base: &Path) {
    let openssl = |args: &[&str]| {
        run_successfully(
            Command::new("openssl").args(args).current_dir(base),
            TOOL_TIMEOUT,
        )
    };
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509", "-days", "1", "-subj", "/CN=shoal test CA"][..],
            &key,
            &["-keyout", "ca.key", "-out", "ca.pem"],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req", "-subj", "/CN=127.0.0.1"][..],
            &key,
            &["-keyout", "server.key", "-out", "server.csr"],
        ]
        .concat(),
    );
    write_file(
        base,
        "server.ext",
        "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n",
    );
    openssl(&[
        "x509",
        "-req",
        "-days",
        "1",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}

/// A program from the system's sbin folders, which a non-root PATH may lack.
fn system_program(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        .iter()
        .map(|folder| Path::new(folder).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Waits until something accepts connections on the port; panics with the server's log.
fn wait_for_port(port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(200),
    )
    .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the server on port {port} did not start:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
