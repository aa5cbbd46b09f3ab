//! [`SilentServer`]: an API host that accepts connections and never answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A TCP server that accepts every connection and never sends a byte: an API
/// host that hangs (overloaded, or a firewall that lets the handshake through).
/// Connections are held open until the server is dropped.
pub struct SilentServer {
    port: u16,
    accepted: Arc<Mutex<Vec<std::net::TcpStream>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    /// Listens on a free loopback port.
    pub fn start() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot start the silent server: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("silent server address: {e}"))
            .port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let accepted = accepted.clone();
            let stopping = stopping.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        accepted
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(stream);
                    }
                }
            })
        };
        SilentServer {
            port,
            accepted,
            stopping,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
