//! nginx in front of replicas, configured by the project's own `deploy/nginx.conf` (the
//! proxy of `docker-compose.yml`) with only its upstream addresses and its port changed:
//! the compose file's proxy, without Docker. nginx is Debian's package (`scripts/test`
//! installs it); `JEMBATAN_TEST_NGINX` names another binary.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tempdir::TempDir;

/// The compose file's proxy configuration, as shipped.
const SHIPPED: &str = include_str!("../../deploy/nginx.conf");

pub struct Proxy {
    /// `http://127.0.0.1:port`.
    pub base: String,
    child: Child,
    dir: TempDir,
}

impl Proxy {
    /// Starts nginx with the shipped configuration, its upstream servers replaced, in
    /// order, by `upstreams` (`http://127.0.0.1:port`, as many as the file has).
    pub fn start(upstreams: &[&str]) -> Proxy {
        let dir = TempDir::new();
        // A free port may be taken by another test between our probe and nginx's bind:
        // then nginx stops, and we try another.
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = run(&dir, upstreams, port) {
                return Proxy { base: format!("http://127.0.0.1:{port}"), child, dir };
            }
        }
        panic!("nginx did not start:\n{}", std::fs::read_to_string(dir.0.join("error.log")).unwrap_or_default());
    }

    /// `/api/v1` + path, through the proxy.
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// What nginx logged (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx on `port`, once it listens there; `None` when it stopped (the port was taken).
fn run(dir: &TempDir, upstreams: &[&str], port: u16) -> Option<Child> {
    std::fs::write(dir.0.join("site.conf"), site_conf(SHIPPED, upstreams, port)).expect("write the site");
    let _ = std::fs::remove_file(dir.0.join("nginx.pid"));
    let d = dir.0.display();
    // One process (`master_process off`): killing the child stops all of it. Every path
    // nginx writes under the temporary folder, not the system's.
    let main = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.0.join("nginx.conf"), main).expect("write nginx.conf");
    let nginx = nginx_binary();
    let mut command = Command::new(&nginx);
    command
        .arg("-p")
        .arg(&dir.0)
        .arg("-c")
        .arg(dir.0.join("nginx.conf"))
        // Its log from the start, before the configuration names one.
        .arg("-e")
        .arg(dir.0.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // If the test process dies without dropping the proxy, nginx goes with it.
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} ({e}): install nginx (scripts/test does)", nginx.display()));
    // nginx writes its pid file once its port is bound (it retries a taken port for a few
    // seconds, then stops), so a listener found there is nginx, not another test's.
    let pid_file = dir.0.join("nginx.pid");
    let started = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        let written = std::fs::read_to_string(&pid_file).is_ok_and(|p| p.trim() == child.id().to_string());
        if written && TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        assert!(started.elapsed() < Duration::from_secs(10), "nginx did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn nginx_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("JEMBATAN_TEST_NGINX") {
        return path.into();
    }
    let debian = PathBuf::from("/usr/sbin/nginx");
    if debian.exists() { debian } else { "nginx".into() }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

/// The shipped site with its `server app…` lines pointing at `upstreams` and its `listen`
/// on loopback at `port`; everything else as shipped.
fn site_conf(shipped: &str, upstreams: &[&str], port: u16) -> String {
    let mut next = upstreams.iter().map(|u| u.trim_start_matches("http://"));
    let mut listens = 0;
    let lines: Vec<String> = shipped
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["server", host, rest @ ..] if host.starts_with("app") => {
                    let to = next.next().expect("an upstream for each of the file's servers");
                    format!("    server {to} {}", rest.join(" "))
                }
                ["listen", "80;"] => {
                    listens += 1;
                    format!("    listen 127.0.0.1:{port};")
                }
                _ => line.to_owned(),
            }
        })
        .collect();
    assert!(next.next().is_none(), "more upstreams than the shipped file has servers");
    assert_eq!(listens, 1, "the shipped file listens once, on port 80");
    lines.join("\n")
}
