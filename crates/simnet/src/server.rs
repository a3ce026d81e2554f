//! The servers behind the simulated internet: a few listeners per behaviour on 127.0.0.1 (or,
//! with [`Simnet::start_at_addresses`], a listener at every host's own address), run by one
//! single-threaded tokio runtime on a thread of its own.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use socket2::{Domain, SockRef, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use wardial_probe::Target;

use crate::addresses::{self, AtAddresses};
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
    /// Connections accepted at addresses outside the range (only a simnet at real addresses
    /// listens there, and only to count them: see [`AtAddresses::outside`]).
    pub outside: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicUsize,
    peak_open: AtomicUsize,
    max_request_lag: AtomicU64,
    outside: AtomicU64,
    /// Connections accepted by each host of the range, by its offset in the range (a simnet at
    /// real addresses only, where each host has a listener of its own; empty otherwise).
    per_host: Vec<AtomicU32>,
    /// When each answering host accepted its connection and sent its first byte, while a
    /// client asked for them (see [`Simnet::record_phases`]).
    phases: std::sync::Mutex<Option<HashMap<Ipv4Addr, Phases>>>,
}

/// When a host that answers accepted its connection and when it sent the first byte of its
/// answer: the client's connecting ends at the first, its waiting at the second. Wall-clock
/// times, so that a client in another process can set them beside its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phases {
    pub accepted: SystemTime,
    pub answered: SystemTime,
}

/// Counts one accepted connection as open until dropped.
struct OpenGuard {
    counters: Arc<Counters>,
    /// How many connections had been accepted when this one was (itself included).
    serial: u64,
    /// When it was accepted.
    accepted: SystemTime,
}

impl OpenGuard {
    fn new(c: &Arc<Counters>) -> OpenGuard {
        let serial = c.accepted.fetch_add(1, Ordering::SeqCst) + 1;
        let now = c.open.fetch_add(1, Ordering::SeqCst) + 1;
        c.peak_open.fetch_max(now, Ordering::SeqCst);
        OpenGuard {
            counters: c.clone(),
            serial,
            accepted: SystemTime::now(),
        }
    }

    /// The host `addr` is about to send its first byte: recorded, if a client asked.
    fn answering(&self, addr: Option<Ipv4Addr>) {
        let Some(addr) = addr else {
            return;
        };
        if let Some(phases) = wardial_probe::lock(&self.counters.phases).as_mut() {
            let answered = SystemTime::now();
            phases.insert(
                addr,
                Phases {
                    accepted: self.accepted,
                    answered,
                },
            );
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
    /// Whether filtered hosts really leave the SYN unanswered here (else they are played as
    /// silent hosts, which accept and never answer: see [`Filtered`]).
    filtered_unanswered: bool,
    // Sockets held and never accepted from: the port where nothing listens (keeping it bound
    // stops the kernel from handing it to an outgoing connection, which could then connect to
    // itself), and the filtered listeners with the connections that fill their backlog.
    _held: Vec<Socket>,
}

/// Where each host is reached.
#[derive(Debug)]
enum Dialplan {
    /// A few listeners per behaviour on 127.0.0.1: a probe names the host it means in its
    /// `Host` header.
    ByHost(Box<[Vec<SocketAddr>; KINDS.len()]>),
    /// Every host at its own address, on this port.
    AtAddresses(u16),
}

impl Dialplan {
    fn dial(&self, world: &World, addr: Ipv4Addr) -> SocketAddr {
        match self {
            Dialplan::ByHost(by_kind) => {
                let ports = &by_kind[world.behaviour(addr).index()];
                ports[(world.hash(addr, 4) % ports.len() as u64) as usize]
            }
            Dialplan::AtAddresses(port) => SocketAddr::from((addr, *port)),
        }
    }

    /// The port a target names: HTTP's own where the `Host` header says who is asked.
    fn port(&self) -> u16 {
        match self {
            Dialplan::ByHost(_) => 80,
            Dialplan::AtAddresses(port) => *port,
        }
    }
}

/// Who a listener plays.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    /// A behaviour (an index into [`KINDS`]); `host` is the virtual host when the listener is
    /// at that host's own address (then the address, not the `Host` header, says who is asked).
    Plays { kind: usize, host: Option<Ipv4Addr> },
    /// An address outside the range, listening only to count who connects to it.
    Outside,
}

/// A listener for the runtime to accept on, and who it plays.
pub(crate) type Serve = (Role, StdListener);

/// A listening socket at `addr` (an address in 127.0.0.0/8, never 0.0.0.0: the simulated
/// internet is on no network), not yet listening.
pub(crate) fn bound_at(addr: SocketAddr) -> io::Result<(Socket, SocketAddr)> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    let addr = socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("listener has no inet address"))?;
    Ok((socket, addr))
}

fn listener() -> io::Result<(Socket, SocketAddr)> {
    bound_at(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}

/// `socket`, listening with a queue of `backlog`, for the runtime.
pub(crate) fn serving(socket: Socket, backlog: i32) -> io::Result<StdListener> {
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(StdListener::from(socket))
}

impl Simnet {
    /// Starts the servers for `world`. Also raises this process's open-file limit to its hard
    /// limit: the simnet and the scanner share the process and each connection costs both a file.
    pub fn start(world: World) -> io::Result<Simnet> {
        let _ = rlimit::increase_nofile_limit(u64::MAX);
        let (refused, refused_addr) = listener()?;
        let mut held = vec![refused];
        let filtered = Filtered::start()?;
        let filtered_addr = filtered.addr;
        held.extend(filtered.sockets);

        let mut listeners = Vec::new();
        let mut by_kind: [Vec<SocketAddr>; KINDS.len()] = Default::default();
        for (kind, ports) in by_kind.iter_mut().enumerate() {
            match (KINDS[kind], filtered_addr) {
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
                let role = Role::Plays { kind, host: None };
                listeners.push((role, serving(socket, 4096)?));
                ports.push(addr);
            }
        }
        let plan = Dialplan::ByHost(Box::new(by_kind));
        Simnet::serve(world, plan, listeners, held, filtered_addr.is_some())
    }

    /// Starts the servers for `world` with every host of its range at its own loopback address
    /// on one port (see [`crate::addresses`]), so that any program can scan the range as it
    /// would a network: a refused host has no listener, a filtered one leaves the SYN
    /// unanswered. Refuses a range whose listeners do not fit under the open-file limit.
    pub fn start_at_addresses(world: World, options: &AtAddresses) -> io::Result<Simnet> {
        let bound = addresses::bind(&world, options)?;
        let plan = Dialplan::AtAddresses(bound.port);
        Simnet::serve(
            world,
            plan,
            bound.listeners,
            bound.held,
            bound.filtered_unanswered,
        )
    }

    /// Runs `listeners` on a runtime of their own until dropped.
    fn serve(
        world: World,
        dialplan: Dialplan,
        listeners: Vec<Serve>,
        held: Vec<Socket>,
        filtered_unanswered: bool,
    ) -> io::Result<Simnet> {
        let world = Arc::new(world);
        let hosts = match dialplan {
            Dialplan::AtAddresses(_) => world.range.len() as usize,
            Dialplan::ByHost(_) => 0,
        };
        let counters = Arc::new(Counters {
            per_host: (0..hosts).map(|_| AtomicU32::new(0)).collect(),
            ..Counters::default()
        });
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
                        for (role, l) in listeners {
                            let l = TcpListener::from_std(l).expect("inside the runtime");
                            tokio::spawn(accept_loop(l, role, world.clone(), counters.clone()));
                        }
                        shutdown.notified().await;
                    });
                    // Dropping the runtime drops every task, and with them every socket.
                    drop(runtime);
                })?
        };
        Ok(Simnet {
            world,
            dialplan: Arc::new(dialplan),
            counters,
            shutdown,
            thread: Some(thread),
            filtered_unanswered,
            _held: held,
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
            port: self.dialplan.port(),
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
            port: plan.port(),
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
            outside: c.outside.load(Ordering::SeqCst),
        }
    }

    /// How many connections the host at `addr` accepted (since start or the last reset):
    /// `None` outside the range, or where hosts have no listener of their own (only a simnet at
    /// real addresses knows which host a connection was for before it reads the request).
    pub fn accepted_by(&self, addr: Ipv4Addr) -> Option<u64> {
        let range = self.world.range;
        if !range.contains(addr) {
            return None;
        }
        let offset = (u32::from(addr) - u32::from(range.first())) as usize;
        let n = self.counters.per_host.get(offset)?;
        Some(u64::from(n.load(Ordering::SeqCst)))
    }

    /// The port every host listens on, for a simnet at real addresses.
    pub fn port_at_addresses(&self) -> Option<u16> {
        match *self.dialplan {
            Dialplan::AtAddresses(port) => Some(port),
            Dialplan::ByHost(_) => None,
        }
    }

    /// Whether a filtered host's connect really goes unanswered here; if not (an OS that
    /// answers SYNs past a full backlog), filtered hosts accept and never answer, which a
    /// correct probe reports the same way, as a timeout.
    pub fn filtered_unanswered(&self) -> bool {
        self.filtered_unanswered
    }

    /// Zeroes `accepted` and the request lag, and sets the peak to what is open now, so one
    /// simnet can serve several scans that are counted apart.
    pub fn reset_stats(&self) {
        let c = &self.counters;
        c.accepted.store(0, Ordering::SeqCst);
        c.max_request_lag.store(0, Ordering::SeqCst);
        c.outside.store(0, Ordering::SeqCst);
        for n in &c.per_host {
            n.store(0, Ordering::SeqCst);
        }
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

    /// Every listening address with the behaviour it plays (for `wardial simnet`); none for a
    /// simnet at real addresses, where each host listens at its own.
    pub fn listeners(&self) -> Vec<(&'static str, SocketAddr)> {
        let mut all = Vec::new();
        if let Dialplan::ByHost(by_kind) = &*self.dialplan {
            for (kind, addrs) in by_kind.iter().enumerate() {
                all.extend(addrs.iter().map(|a| (KINDS[kind], *a)));
            }
        }
        all
    }

    /// From now on, records when each host that answers accepted its connection and sent its
    /// first byte, forgetting what an earlier client's scan left (see [`Phases`]).
    pub fn record_phases(&self) {
        *wardial_probe::lock(&self.counters.phases) = Some(HashMap::new());
    }

    /// What was recorded since [`Simnet::record_phases`], and stops recording.
    pub fn take_phases(&self) -> HashMap<Ipv4Addr, Phases> {
        wardial_probe::lock(&self.counters.phases)
            .take()
            .unwrap_or_default()
    }

    /// The targets of `world`'s range as a simnet that listens on `listeners` plays them (what
    /// [`Simnet::listeners`] lists, in its order): for a client whose simnet runs in another
    /// process, and so for a scanner whose measurements must not include the servers' work.
    pub fn targets_of_listeners(
        world: &World,
        listeners: &[(String, SocketAddr)],
    ) -> impl Iterator<Item = Target> + Send + 'static {
        let mut by_kind: [Vec<SocketAddr>; KINDS.len()] = Default::default();
        for (kind, addr) in listeners {
            if let Some(k) = KINDS.iter().position(|name| name == kind) {
                by_kind[k].push(*addr);
            }
        }
        let world = Arc::new(world.clone());
        let plan = Dialplan::ByHost(Box::new(by_kind));
        let range = world.range;
        range.into_iter().map(move |addr| Target {
            addr,
            port: plan.port(),
            dial: plan.dial(&world, addr),
        })
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

async fn accept_loop(listener: TcpListener, role: Role, world: Arc<World>, c: Arc<Counters>) {
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
        let (kind, host) = match role {
            Role::Plays { kind, host } => (kind, host),
            // Counted, and closed at once: nothing is served outside the range.
            Role::Outside => {
                c.outside.fetch_add(1, Ordering::SeqCst);
                continue;
            }
        };
        if let Some(n) = host
            .map(|h| u32::from(h).wrapping_sub(u32::from(world.range.first())) as usize)
            .and_then(|offset| c.per_host.get(offset))
        {
            n.fetch_add(1, Ordering::SeqCst);
        }
        let guard = OpenGuard::new(&c);
        let host = Host {
            world: world.clone(),
            at: host,
        };
        tokio::spawn(serve(stream, kind, host, guard));
    }
}

/// The world, and the host a listener plays when it is at that host's own address.
struct Host {
    world: Arc<World>,
    at: Option<Ipv4Addr>,
}

impl Host {
    /// Who is asked: the listener's own address if it has one, else the request's `Host`.
    fn asked(&self, named: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        self.at.or(named)
    }
}

async fn serve(mut stream: TcpStream, kind: usize, host: Host, open: OpenGuard) {
    let _ = stream.set_nodelay(true);
    let world = &host.world;
    let _ = match KINDS[kind] {
        "live" => live(&mut stream, &host, &open).await,
        "blackhole" | "filtered" => until_closed(&mut stream).await,
        "trickle" => trickle(&mut stream, world.trickle_interval).await,
        "garbage" => garbage(&mut stream, world).await,
        "endless" => endless(&mut stream).await,
        "interim" => interim(&mut stream, &host).await,
        "partial-reset" => partial_reset(&mut stream).await,
        "bad-header" => bad_header(&mut stream, &host).await,
        "blank-line" => blank_line(&mut stream, &host).await,
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

async fn live(stream: &mut TcpStream, asked: &Host, open: &OpenGuard) -> io::Result<()> {
    let host = asked.asked(read_request(stream).await?);
    open.request_arrived();
    let (status, latency) = answer_for(&asked.world, host);
    if wait_unless_gone(stream, latency).await {
        open.answering(host);
        answer_and_close(stream, response(status, host).as_bytes()).await?;
    }
    Ok(())
}

async fn interim(stream: &mut TcpStream, asked: &Host) -> io::Result<()> {
    let host = asked.asked(read_request(stream).await?);
    let (status, latency) = answer_for(&asked.world, host);
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

async fn bad_header(stream: &mut TcpStream, asked: &Host) -> io::Result<()> {
    let host = asked.asked(read_request(stream).await?);
    let world = &asked.world;
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

async fn blank_line(stream: &mut TcpStream, asked: &Host) -> io::Result<()> {
    let host = asked.asked(read_request(stream).await?);
    let (status, _) = answer_for(&asked.world, host);
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
    /// The listener and the connections that fill its backlog, to be held.
    sockets: Vec<Socket>,
}

impl Filtered {
    fn start() -> io::Result<Filtered> {
        let (listener, addr) = listener()?;
        let (fillers, full) = fill_backlog(&listener, addr)?;
        let mut sockets = vec![listener];
        sockets.extend(fillers);
        Ok(Filtered {
            addr: full.then_some(addr),
            sockets,
        })
    }
}

/// Makes `listener` (bound at `addr`) drop every further SYN: the shortest queue the kernel
/// allows (Linux keeps one connection with a backlog of 0), then connections until one is not
/// completed. Returns the connections that fill the queue, and whether it is full.
pub(crate) fn fill_backlog(listener: &Socket, addr: SocketAddr) -> io::Result<(Vec<Socket>, bool)> {
    listener.listen(0)?;
    let mut fillers = Vec::new();
    for _ in 0..16 {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        match socket.connect_timeout(&addr.into(), Duration::from_millis(50)) {
            Ok(()) => fillers.push(socket),
            // Full once one of ours could connect and the next could not (a first connect that
            // timed out only says this machine was busy).
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                let full = !fillers.is_empty();
                return Ok((fillers, full));
            }
            Err(_) => break,
        }
    }
    Ok((fillers, false))
}
