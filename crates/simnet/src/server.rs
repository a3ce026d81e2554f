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

use wardial_probe::Target;

use crate::world::{Behaviour, Truth, World, KINDS, TRICKLE_LINE};

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
    /// The most connections accepted between a live host's accept and the arrival of its
    /// request: how far behind the prober let one probe fall while it served others. A prober
    /// that polls every probe fairly keeps this near the number of connections in flight; one
    /// that starves some of its probes lets thousands of others pass them. A counter, not a
    /// time, so a slow machine does not change it.
    pub max_request_lag: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicUsize,
    peak_open: AtomicUsize,
    max_request_lag: AtomicU64,
}

/// Counts one accepted connection as open until dropped.
struct OpenGuard {
    counters: Arc<Counters>,
    /// How many connections had been accepted when this one was (itself included).
    serial: u64,
}

impl OpenGuard {
    fn new(c: &Arc<Counters>) -> OpenGuard {
        let serial = c.accepted.fetch_add(1, Ordering::SeqCst) + 1;
        let now = c.open.fetch_add(1, Ordering::SeqCst) + 1;
        c.peak_open.fetch_max(now, Ordering::SeqCst);
        OpenGuard {
            counters: c.clone(),
            serial,
        }
    }

    /// The request of this connection has arrived: how many others were accepted meanwhile.
    fn request_arrived(&self) {
        let c = &self.counters;
        let lag = c
            .accepted
            .load(Ordering::SeqCst)
            .saturating_sub(self.serial);
        c.max_request_lag.fetch_max(lag, Ordering::SeqCst);
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::SeqCst);
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
    // The filtered listener, never accepted from, and the connections that fill its backlog.
    _filtered: Filtered,
}

/// Where each behaviour listens.
#[derive(Debug)]
struct Dialplan {
    by_kind: [Vec<SocketAddr>; KINDS.len()],
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

        let filtered = Filtered::start()?;

        let mut listeners = Vec::new();
        let mut by_kind: [Vec<SocketAddr>; KINDS.len()] = Default::default();
        for (kind, ports) in by_kind.iter_mut().enumerate() {
            match (KINDS[kind], filtered.addr) {
                ("refused", _) => {
                    ports.push(refused_addr);
                    continue;
                }
                ("filtered", Some(addr)) => {
                    ports.push(addr);
                    continue;
                }
                // This OS answers SYNs past a full backlog: play filtered hosts as silent ones
                // (accepted, never answered), which a correct probe also reports as a timeout.
                ("filtered", None) => {}
                _ => {}
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
            _filtered: filtered,
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

    /// The ground truth for `addr` (see [`World::truth`]).
    pub fn truth(&self, addr: Ipv4Addr, timeout: Duration) -> Truth {
        self.world.truth(addr, timeout)
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            accepted: c.accepted.load(Ordering::SeqCst),
            open: c.open.load(Ordering::SeqCst),
            peak_open: c.peak_open.load(Ordering::SeqCst),
            max_request_lag: c.max_request_lag.load(Ordering::SeqCst),
        }
    }

    /// Zeroes `accepted` and the request lag, and sets the peak to what is open now, so one
    /// simnet can serve several scans that are counted apart.
    pub fn reset_stats(&self) {
        let c = &self.counters;
        c.accepted.store(0, Ordering::SeqCst);
        c.max_request_lag.store(0, Ordering::SeqCst);
        c.peak_open
            .store(c.open.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Waits until the connections of earlier clients have closed (two seconds at most: a
    /// blackhole's server side may linger), then resets the counters, so that one client after
    /// another can each be counted alone on one simnet.
    pub fn settle(&self) {
        let until = std::time::Instant::now() + Duration::from_secs(2);
        while self.stats().open > 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.reset_stats();
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

async fn serve(mut stream: TcpStream, kind: usize, world: Arc<World>, open: OpenGuard) {
    let _ = stream.set_nodelay(true);
    let _ = match KINDS[kind] {
        "live" => live(&mut stream, &world, &open).await,
        "blackhole" | "filtered" => until_closed(&mut stream).await,
        "trickle" => trickle(&mut stream, world.trickle_interval).await,
        "garbage" => garbage(&mut stream, &world).await,
        "endless" => endless(&mut stream).await,
        "interim" => interim(&mut stream, &world).await,
        "partial-reset" => partial_reset(&mut stream).await,
        "bad-header" => bad_header(&mut stream, &world).await,
        "blank-line" => blank_line(&mut stream, &world).await,
        _ => {
            // Reset: SO_LINGER 0 turns close into a RST, with no byte sent.
            reset_on_close(&stream);
            Ok(())
        }
    };
}

/// Makes dropping the stream send a RST instead of a FIN (SO_LINGER 0).
fn reset_on_close(stream: &TcpStream) {
    let _ = SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// Reads and discards until the peer closes (or resets): a silent host, and the way every host
/// notices that the prober has gone.
async fn until_closed(stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    while stream.read(&mut buf).await? > 0 {}
    Ok(())
}

/// Reads the request head (bounded), so that an answer follows it as a real server's does;
/// returns the virtual host its `Host` header names, if any. `None` also for a head that does
/// not parse or passes 16 KiB; an error when the prober closes before sending a whole head.
async fn read_request(stream: &mut TcpStream) -> io::Result<Option<Ipv4Addr>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => return Ok(host_of(&req)),
            Ok(httparse::Status::Partial) if buf.len() < 16 * 1024 => continue,
            _ => return Ok(None),
        }
    }
}

/// The host's status and latency, or 421 at once if the request named a host that does not
/// answer like this (no Host header, or the wrong one): 421 is in no host's repertoire, so
/// the conformance suite catches a probe that sends the wrong Host.
fn answer_for(world: &World, host: Option<Ipv4Addr>) -> (u16, Duration) {
    match host.map(|a| world.behaviour(a)) {
        Some(Behaviour::Live { latency, status } | Behaviour::Interim { latency, status }) => {
            (status, latency)
        }
        Some(Behaviour::BadHeader { status } | Behaviour::BlankLine { status }) => {
            (status, Duration::ZERO)
        }
        _ => (421, Duration::ZERO),
    }
}

/// Waits `latency`, unless the prober gives up first (then `false`: stop now, so the open
/// count stays true).
async fn wait_unless_gone(stream: &mut TcpStream, latency: Duration) -> bool {
    // No timer for a host that answers at once: tokio's timers tick in whole milliseconds, and
    // a zero sleep would still wait for the next tick (measured: 1.2 ms a probe).
    if latency.is_zero() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(latency) => true,
        _ = until_closed(stream) => false,
    }
}

/// A status line, headers and a small body naming the host.
fn response(status: u16, host: Option<Ipv4Addr>) -> String {
    let host = host.map(|a| a.to_string()).unwrap_or_default();
    let body = format!(
        "<html><head><title>simulated host {host}</title></head><body>simulated host {host}</body></html>\n"
    );
    format!(
        "HTTP/1.1 {status} {}\r\nServer: {}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        crate::SERVER_HEADER,
        body.len()
    )
}

/// Sends `bytes`, then closes with a FIN (the whole request was read, so no RST).
async fn answer_and_close(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.shutdown().await
}

async fn live(stream: &mut TcpStream, world: &World, open: &OpenGuard) -> io::Result<()> {
    let host = read_request(stream).await?;
    open.request_arrived();
    let (status, latency) = answer_for(world, host);
    if wait_unless_gone(stream, latency).await {
        answer_and_close(stream, response(status, host).as_bytes()).await?;
    }
    Ok(())
}

async fn interim(stream: &mut TcpStream, world: &World) -> io::Result<()> {
    let host = read_request(stream).await?;
    let (status, latency) = answer_for(world, host);
    stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    if wait_unless_gone(stream, latency).await {
        answer_and_close(stream, response(status, host).as_bytes()).await?;
    }
    Ok(())
}

async fn partial_reset(stream: &mut TcpStream) -> io::Result<()> {
    read_request(stream).await?;
    stream.write_all(b"HTTP/1.").await?;
    // A moment for the bytes to be read before the reset: some systems (not Linux) drop
    // unread data when a RST arrives, and the prober should have had the chance to see it.
    tokio::time::sleep(Duration::from_millis(5)).await;
    reset_on_close(stream);
    Ok(())
}

async fn bad_header(stream: &mut TcpStream, world: &World) -> io::Result<()> {
    let host = read_request(stream).await?;
    let (status, _) = answer_for(world, host);
    let bad: &[u8] = match host.map_or(0, |a| world.hash(a, 5) % 3) {
        0 => b"Location : /elsewhere\r\n",
        1 => b"X-Folded: first\r\n  folded onto the line above\r\n",
        _ => b"X-Nul: a\x00b\r\n",
    };
    // The status line and the bad header in one write, so they arrive in one segment.
    let mut answer = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    answer.extend_from_slice(bad);
    answer.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    answer_and_close(stream, &answer).await
}

async fn blank_line(stream: &mut TcpStream, world: &World) -> io::Result<()> {
    let host = read_request(stream).await?;
    let (status, _) = answer_for(world, host);
    // The empty line and the start of the status line first, the rest a moment later: a probe
    // must neither take the CR LF for the end of the status line nor decide before it ends.
    stream.write_all(b"\r\nHTTP/1.1 ").await?;
    tokio::time::sleep(Duration::from_millis(1)).await;
    answer_and_close(
        stream,
        &response(status, host).as_bytes()["HTTP/1.1 ".len()..],
    )
    .await
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
        100 => "Continue",
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

/// The listener that plays filtered hosts: it never accepts, and its backlog is kept full by
/// connections of our own, so the kernel drops every further SYN (on Linux and macOS; the
/// connecting side hears nothing, as behind a firewall that drops packets).
#[derive(Debug)]
struct Filtered {
    /// `None` when this OS answers SYNs past a full backlog (with a RST, or by accepting), so
    /// that filtered hosts cannot be played this way.
    addr: Option<SocketAddr>,
    _listener: Socket,
    _fillers: Vec<Socket>,
}

impl Filtered {
    fn start() -> io::Result<Filtered> {
        let (listener, addr) = listener()?;
        // The shortest queue the kernel allows (Linux keeps one connection with a backlog of
        // 0), then connections until one is not completed: from then on SYNs are dropped.
        listener.listen(0)?;
        let mut fillers = Vec::new();
        let mut full = false;
        for _ in 0..16 {
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
            match socket.connect_timeout(&addr.into(), Duration::from_millis(50)) {
                Ok(()) => fillers.push(socket),
                // Full once one of ours could connect and the next could not (a first connect that
                // timed out only says this machine was busy).
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    full = !fillers.is_empty();
                    break;
                }
                Err(_) => break,
            }
        }
        Ok(Filtered {
            addr: full.then_some(addr),
            _listener: listener,
            _fillers: fillers,
        })
    }
}
