//! A proxy on a unix socket between berth and the test engine that fails
//! chosen Engine API calls, so that tests can interrupt an apply at an
//! exact step and check what a second plan does.
//!
//! Each forwarded request is rewritten to `Connection: close`, so every
//! connection carries one request and the proxy reads every request line.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Maximum size of a request head; a longer one ends the connection.
const MAX_HEAD: usize = 64 * 1024;

/// One call to fail: the first request whose method matches and whose path
/// contains `path_part` gets `status` with an error message, once.
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: &'static str,
    pub path_part: String,
    pub status: u16,
}

impl Fault {
    /// Fails the first `method` request whose path contains `path_part`
    /// with a 500.
    pub fn once(method: &'static str, path_part: &str) -> Fault {
        Fault {
            method,
            path_part: path_part.to_string(),
            status: 500,
        }
    }
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    injected: Arc<AtomicUsize>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on `dir/fault-proxy.sock` and forwards to the unix socket of
    /// `upstream_host` (a `unix://` `DOCKER_HOST` value).
    pub fn start(upstream_host: &str, dir: &Path, faults: Vec<Fault>) -> FaultProxy {
        let upstream = PathBuf::from(
            upstream_host
                .strip_prefix("unix://")
                .expect("the test engine listens on a unix socket"),
        );
        let socket = dir.join("fault-proxy.sock");
        let listener = UnixListener::bind(&socket).expect("bind the fault proxy socket");
        listener
            .set_nonblocking(true)
            .expect("make the proxy listener non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let injected = Arc::new(AtomicUsize::new(0));
        let pending = Arc::new(std::sync::Mutex::new(faults));
        let accept_thread = {
            let stop = Arc::clone(&stop);
            let injected = Arc::clone(&injected);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let upstream = upstream.clone();
                            let pending = Arc::clone(&pending);
                            let injected = Arc::clone(&injected);
                            std::thread::spawn(move || {
                                serve(client, &upstream, &pending, &injected)
                            });
                        }
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        FaultProxy {
            socket,
            stop,
            injected,
            accept_thread: Some(accept_thread),
        }
    }

    /// `DOCKER_HOST` value that reaches the engine through the proxy.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Returns how many faults were injected so far.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Handles one connection: fails it if a fault matches its request line,
/// else forwards it with `Connection: close`.
fn serve(
    mut client: UnixStream,
    upstream: &Path,
    pending: &std::sync::Mutex<Vec<Fault>>,
    injected: &AtomicUsize,
) {
    let _ = client.set_nonblocking(false);
    let Some((head, rest)) = read_head(&mut client) else {
        return;
    };
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let matched = {
        let mut faults = pending.lock().expect("fault list lock");
        let position = faults
            .iter()
            .position(|f| f.method == method && path.contains(&f.path_part));
        position.map(|index| faults.remove(index))
    };
    if let Some(fault) = matched {
        injected.fetch_add(1, Ordering::Relaxed);
        let body =
            format!("{{\"message\":\"fault injected by the test proxy into {method} {path}\"}}");
        let response = format!(
            "HTTP/1.1 {} Injected Fault\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            fault.status,
            body.len()
        );
        let _ = client.write_all(response.as_bytes());
        return;
    }
    let Ok(mut server) = UnixStream::connect(upstream) else {
        return;
    };
    let mut rewritten: String = head
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .filter(|line| !line.is_empty())
        .map(|line| format!("{line}\r\n"))
        .collect();
    rewritten.push_str("Connection: close\r\n\r\n");
    if server.write_all(rewritten.as_bytes()).is_err() || server.write_all(&rest).is_err() {
        return;
    }
    let (Ok(mut client_reader), Ok(mut server_writer)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    // The request body (if any) streams on while the response comes back.
    let upload = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = upload.join();
}

/// Reads up to the end of the request head; returns the head as text and
/// the bytes read past it.
fn read_head(client: &mut UnixStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end + 4]).into_owned();
            return Some((head, buffer[end + 4..].to_vec()));
        }
        if buffer.len() > MAX_HEAD {
            return None;
        }
        let read = client.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}
