//! `latchkey healthcheck`: a container's HEALTHCHECK without curl in the image. It GETs
//! `/health/ready` from the server this machine runs at `LATCHKEY_BIND` and exits 0 on a 200.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// For connecting, sending and reading the answer, each.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Probes the server bound at `bind`; prints why it is unhealthy on stderr.
pub fn run(bind: &str) -> ExitCode {
    match probe(bind) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}

fn probe(bind: &str) -> Result<(), String> {
    let bind: SocketAddr = bind.parse().map_err(|_| format!("LATCHKEY_BIND `{bind}` is not an address:port"))?;
    if bind.port() == 0 {
        return Err("LATCHKEY_BIND has port 0: there is no fixed port to probe".into());
    }
    let addr = target(bind);
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET /health/ready HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("sending to {addr}: {e}"))?;
    let mut status_line = String::new();
    BufReader::new(stream.take(1024)).read_line(&mut status_line).map_err(|e| format!("reading from {addr}: {e}"))?;
    match status_code(&status_line) {
        Some(200) => Ok(()),
        Some(code) => Err(format!("/health/ready answered {code}")),
        None => Err(format!("/health/ready answered no HTTP status line: {:?}", status_line.trim_end())),
    }
}

/// Where to reach a server bound at `bind`: a wildcard address is reached on loopback.
fn target(bind: SocketAddr) -> SocketAddr {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bind.port())
}

/// The code of an HTTP/1.x status line.
fn status_code(line: &str) -> Option<u16> {
    let mut parts = line.split(' ');
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_probed_on_loopback() {
        for (bind, probed) in [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:8080", "[::1]:8080"),
            ("127.0.0.1:9000", "127.0.0.1:9000"),
            ("10.1.2.3:80", "10.1.2.3:80"),
        ] {
            assert_eq!(target(bind.parse().unwrap()), probed.parse().unwrap(), "{bind}");
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_code("HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(status_code("HTTP/1.0 503 Service Unavailable\r\n"), Some(503));
        assert_eq!(status_code(""), None);
        assert_eq!(status_code("SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code("HTTP/1.1 ok"), None);
    }

    #[test]
    fn bad_or_unfixed_binds_are_unhealthy() {
        assert!(probe("nonsense").unwrap_err().contains("LATCHKEY_BIND"));
        assert!(probe("127.0.0.1:0").unwrap_err().contains("port 0"));
    }
}
