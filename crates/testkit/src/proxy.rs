//! A TCP proxy that a test can switch off and on, or make hang, to make a dependency
//! (the database, another service) really unreachable or slow from a service, and then
//! bring it back.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    /// New connections are closed at once.
    Down,
    /// New connections are accepted and never answered.
    Hanging,
}

pub struct TcpProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    /// Forwards connections on an ephemeral local port to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("cannot bind the proxy");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let (mode, mode_rx) = watch::channel(Mode::Up);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *mode_rx.borrow() == Mode::Down {
                    continue; // down: the connection is closed at once
                }
                tokio::spawn(forward(client, target, mode_rx.clone()));
            }
        });
        Self { addr, mode, task }
    }

    /// Down: open connections are cut and new ones closed at once. Up: forwarding again.
    pub fn set_up(&self, up: bool) {
        self.mode
            .send_replace(if up { Mode::Up } else { Mode::Down });
    }

    /// Hanging: open connections are cut, new ones are accepted and get no answer until
    /// the proxy is up again (a dependency that is there but too slow).
    pub fn hang(&self) {
        self.mode.send_replace(Mode::Hanging);
    }
}

async fn forward(mut client: TcpStream, target: SocketAddr, mut mode: watch::Receiver<Mode>) {
    // A connection made while hanging waits, unanswered, for the proxy to change.
    match mode.wait_for(|m| *m != Mode::Hanging).await.map(|m| *m) {
        Ok(Mode::Up) => {}
        _ => return,
    }
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    // Like the services' own sockets: no Nagle delay added by the hop (a small last
    // write would otherwise wait for the peer's delayed ACK, ~40 ms).
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = mode.wait_for(|m| *m != Mode::Up) => {}
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
