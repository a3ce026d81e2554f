//! The servers behind the simulated internet: a few listeners per behaviour on 127.0.0.1, run
//! by one single-threaded tokio runtime on a thread of its own.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, SockRef, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use wardial_probe::{Outcome, Target};

use crate::world::{Behaviour, World, KINDS, TRICKLE_LINE};

/// Listeners per behaviour that accepts. Thousands of short connections to one port pile up in
/// TIME_WAIT on the same four-tuple space; a few ports spread them out.
const LISTENERS_PER_KIND: usize = 4;

/// Counters kept by the servers, read without timing anything: a test proves concurrency by
/// the peak number of connections open at once, not by a stopwatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Connections accepted since start (or the last [`Simnet::reset_stats`]).
    pub accepted: u64,
    /// Connections open now.
    pub open: usize,
    /// The most connections open at once.
    pub peak_open: usize,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicUsize,
    peak_open: AtomicUsize,
}

/// Counts one accepted connection as open until dropped.
struct OpenGuard(Arc<Counters>);

impl OpenGuard {
    fn new(c: &Arc<Counters>) -> OpenGuard {
        c.accepted.fetch_add(1, Ordering::Relaxed);
        let now = c.open.fetch_add(1, Ordering::SeqCst) + 1;
        c.peak_open.fetch_max(now, Ordering::SeqCst);
        OpenGuard(c.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running simulated internet. Dropping it stops the servers, closes every socket and joins
/// its thread.
#[derive(Debug)]
pub struct Simnet {
    world: Arc<World>,
    dialplan: Arc<Dialplan>,
    counters: Arc<Counters>,
    shutdown: Arc<Notify>,
    thread: Option<JoinHandle<()>>,
    // Held, never listened on: its port is where nothing listens, and keeping it bound stops the
    // kernel from handing the port to an outgoing connection (which could then connect to itself).
    _refused: Socket,
}

/// Where each behaviour listens.
#[derive(Debug)]
struct Dialplan {
    by_kind: [Vec<SocketAddr>; 7],
}

impl Dialplan {
    fn dial(&self, world: &World, addr: Ipv4Addr) -> SocketAddr {
        let ports = &self.by_kind[world.behaviour(addr).index()];
        ports[(world.hash(addr, 4) % ports.len() as u64) as usize]
    }
}

fn listener() -> io::Result<(Socket, SocketAddr)> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    // 127.0.0.1 only, never 0.0.0.0: the simulated internet is not on any network.
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
    let addr = socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("listener has no inet address"))?;
    Ok((socket, addr))
}

impl Simnet {
    /// Starts the servers for `world`. Also raises this process's open-file limit to its hard
    /// limit: the simnet and the scanner share the process and each connection costs both a file.
    pub fn start(world: World) -> io::Result<Simnet> {
        let _ = rlimit::increase_nofile_limit(u64::MAX);
        let world = Arc::new(world);
        let (refused, refused_addr) = listener()?;

        let mut listeners = Vec::new();
        let mut by_kind: [Vec<SocketAddr>; 7] = Default::default();
        by_kind[1].push(refused_addr);
        for (kind, ports) in by_kind.iter_mut().enumerate() {
            if KINDS[kind] == "refused" {
                continue;
            }
            for _ in 0..LISTENERS_PER_KIND {
                let (socket, addr) = listener()?;
                // A deep backlog: a scan opens thousands of connections in a burst, and a full
                // queue drops SYNs, which the client sees as a one-second retry, not a refusal.
                socket.listen(4096)?;
                socket.set_nonblocking(true)?;
                listeners.push((kind, StdListener::from(socket)));
                ports.push(addr);
            }
        }

        let counters = Arc::new(Counters::default());
        let shutdown = Arc::new(Notify::new());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = {
            let (world, counters, shutdown) = (world.clone(), counters.clone(), shutdown.clone());
            std::thread::Builder::new()
                .name("simnet".into())
                .spawn(move || {
                    runtime.block_on(async move {
                        for (kind, l) in listeners {
                            let l = TcpListener::from_std(l).expect("inside the runtime");
                            tokio::spawn(accept_loop(l, kind, world.clone(), counters.clone()));
                        }
                        shutdown.notified().await;
                    });
                    // Dropping the runtime drops every task, and with them every socket.
                    drop(runtime);
                })?
        };
        Ok(Simnet {
            world,
            dialplan: Arc::new(Dialplan { by_kind }),
            counters,
            shutdown,
            thread: Some(thread),
            _refused: refused,
        })
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// The socket address that plays the virtual host `addr`.
    pub fn dial(&self, addr: Ipv4Addr) -> SocketAddr {
        self.dialplan.dial(&self.world, addr)
    }

    /// The target for virtual address `addr`: the probe connects to the simnet and names `addr`
    /// in its `Host` header. Any address can be asked for; its behaviour comes from the world's
    /// seed, and the socket it dials is always on 127.0.0.1.
    pub fn target(&self, addr: Ipv4Addr) -> Target {
        Target {
            addr,
            port: 80,
            dial: self.dial(addr),
        }
    }

    /// A lazy iterator over the targets of any addresses, owning what it needs (so it can be
    /// handed to a scan on another thread).
    pub fn targets_of<I>(&self, addrs: I) -> impl Iterator<Item = Target> + Send + 'static
    where
        I: IntoIterator<Item = Ipv4Addr>,
        I::IntoIter: Send + 'static,
    {
        let (world, plan) = (self.world.clone(), self.dialplan.clone());
        addrs.into_iter().map(move |addr| Target {
            addr,
            port: 80,
            dial: plan.dial(&world, addr),
        })
    }

    /// The targets of the range this simnet plays.
    pub fn targets(&self) -> impl Iterator<Item = Target> + Send + 'static {
        self.targets_of(self.world.range)
    }

    /// The ground truth for `addr` (see [`World::expected`]).
    pub fn expected(&self, addr: Ipv4Addr, timeout: Duration) -> Outcome {
        self.world.expected(addr, timeout)
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            accepted: c.accepted.load(Ordering::SeqCst),
            open: c.open.load(Ordering::SeqCst),
            peak_open: c.peak_open.load(Ordering::SeqCst),
        }
    }

    /// Zeroes `accepted` and sets the peak to what is open now, so one simnet can serve several
    /// scans that are counted apart.
    pub fn reset_stats(&self) {
        let c = &self.counters;
        c.accepted.store(0, Ordering::SeqCst);
        c.peak_open
            .store(c.open.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Every listening address with the behaviour it plays (for `wardial simnet`).
    pub fn listeners(&self) -> Vec<(&'static str, SocketAddr)> {
        let mut all = Vec::new();
        for (kind, addrs) in self.dialplan.by_kind.iter().enumerate() {
            all.extend(addrs.iter().map(|a| (KINDS[kind], *a)));
        }
        all
    }

    /// Stops the servers and waits for their thread; the same as dropping.
    pub fn shutdown(self) {}
}

impl Drop for Simnet {
    fn drop(&mut self) {
        // notify_one stores a permit, so this works even before the runtime awaits it.
        self.shutdown.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, kind: usize, world: Arc<World>, c: Arc<Counters>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of files, for example: back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        // Let the connections that the client has already closed notice it before this one is
        // counted. A client that closes one socket and opens the next (a blocking scan) has sent
        // the FIN before the SYN; yielding lets the runtime poll for that FIN and run its task,
        // so `peak_open` counts what the client really had open, not what we had yet to reap.
        tokio::task::yield_now().await;
        let guard = OpenGuard::new(&c);
        tokio::spawn(serve(stream, kind, world.clone(), guard));
    }
}

async fn serve(mut stream: TcpStream, kind: usize, world: Arc<World>, _open: OpenGuard) {
    let _ = stream.set_nodelay(true);
    let _ = match KINDS[kind] {
        "live" => live(&mut stream, &world).await,
        "blackhole" => until_closed(&mut stream).await,
        "trickle" => trickle(&mut stream, world.trickle_interval).await,
        "garbage" => garbage(&mut stream, &world).await,
        "endless" => endless(&mut stream).await,
        _ => {
            // Reset: SO_LINGER 0 turns close into a RST, with no byte sent.
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            Ok(())
        }
    };
}

/// Reads and discards until the peer closes (or resets): a silent host, and the way every host
/// notices that the prober has gone.
async fn until_closed(stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    while stream.read(&mut buf).await? > 0 {}
    Ok(())
}

async fn live(stream: &mut TcpStream, world: &World) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    // Read the request head (bounded), so the response follows it, as a real server's does.
    let host = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => break host_of(&req),
            Ok(httparse::Status::Partial) if buf.len() < 16 * 1024 => continue,
            _ => break None,
        }
    };
    let (status, latency) = match host.map(|a| world.behaviour(a)) {
        Some(Behaviour::Live { latency, status }) => (status, latency),
        // No Host header, or one naming a host that is not live: the probe sent the wrong Host.
        // 421 is in no live host's repertoire, so the conformance suite catches it.
        _ => (421, Duration::ZERO),
    };
    // No timer for a host that answers at once: tokio's timers tick in whole milliseconds, and
    // a zero sleep would still wait for the next tick (measured: 1.2 ms a probe).
    if !latency.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(latency) => {}
            // The prober gave up while we waited: stop now, so the open count stays true.
            _ = until_closed(stream) => return Ok(()),
        }
    }
    let body = format!(
        "<html><body>simulated host {}</body></html>\n",
        host.map(|a| a.to_string()).unwrap_or_default()
    );
    let response = format!(
        "HTTP/1.1 {status} {}\r\nServer: wardial-simnet\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    // The whole request head was read, so closing sends a FIN; with unread input it would reset.
    stream.shutdown().await?;
    Ok(())
}

fn host_of(req: &httparse::Request<'_, '_>) -> Option<Ipv4Addr> {
    let host = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))?;
    let host = std::str::from_utf8(host.value).ok()?.trim();
    let host = host.rsplit_once(':').map_or(host, |(h, _port)| h);
    host.parse().ok()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        403 => "Forbidden",
        404 => "Not Found",
        421 => "Misdirected Request",
        _ => "Unknown",
    }
}

async fn trickle(stream: &mut TcpStream, interval: Duration) -> io::Result<()> {
    let (mut rd, mut wr) = stream.split();
    let send = async {
        for b in TRICKLE_LINE {
            tokio::time::sleep(interval).await;
            wr.write_all(std::slice::from_ref(b)).await?;
        }
        wr.write_all(b"Content-Length: 0\r\n\r\n").await?;
        wr.shutdown().await
    };
    let mut buf = [0u8; 1024];
    let gone = async {
        while rd.read(&mut buf).await? > 0 {}
        io::Result::Ok(())
    };
    tokio::select! {
        r = send => r,
        r = gone => r,
    }
}

async fn garbage(stream: &mut TcpStream, world: &World) -> io::Result<()> {
    let peer = match stream.peer_addr()? {
        SocketAddr::V4(a) => *a.ip(),
        SocketAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    // The banner depends on the connection, not the virtual host: garbage hosts need no Host
    // header to be wrong.
    let banner: Vec<u8> = match world.hash(peer, u64::from(stream.peer_addr()?.port())) % 3 {
        0 => b"SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n".to_vec(),
        1 => b"220 mail.example ESMTP ready\r\n".to_vec(),
        // Random bytes, never starting with 'H' (which could begin an HTTP status line).
        n => (0..64u64)
            .map(|i| (world.hash(peer, n + i) % 0xff) as u8)
            .map(|b| if b == b'H' { 0 } else { b })
            .collect(),
    };
    stream.write_all(&banner).await?;
    until_closed(stream).await
}

async fn endless(stream: &mut TcpStream) -> io::Result<()> {
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
        .await?;
    let chunk = [b'x'; 16 * 1024];
    // Ends when the prober closes: its close with unread data resets, and the write fails.
    loop {
        stream.write_all(&chunk).await?;
    }
}
