//! The cold-start benchmark's parts: a Lambda Runtime API emulator that times
//! one function process, a TLS endpoint in front of DynamoDB Local (so a
//! function's first request pays a real handshake, as in AWS), and the
//! statistics and Markdown report.
//!
//! Why our own emulator rather than cargo lambda's: we need the moment the
//! process first asks for work (the end of its init) and the moment each
//! response arrives, per process, with nothing else on the path.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};

/// What the emulator saw the function do, with the time it happened.
#[derive(Debug)]
enum Seen {
    /// `GET …/invocation/next`: the process is ready for an event.
    Next(Instant),
    /// `POST …/invocation/{id}/response`: the status code inside the body.
    Response(Instant, u16),
    /// `POST …/invocation/{id}/error` or `…/init/error`.
    Error(String),
}

struct Shared {
    events: Mutex<mpsc::Receiver<String>>,
    seen: mpsc::UnboundedSender<Seen>,
}

/// One Runtime API on 127.0.0.1 for one function process.
pub struct Emulator {
    /// `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    events: mpsc::Sender<String>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Emulator {
    /// Binds a free port and serves the Runtime API until dropped.
    pub async fn start() -> Result<Self> {
        let (events_tx, events_rx) = mpsc::channel(1);
        let (seen_tx, seen_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            seen: seen_tx,
        });
        let address = listen(move |stream| {
            let shared = shared.clone();
            serve_http(stream, move |request| {
                let shared = shared.clone();
                async move { route(&shared, request).await }
            })
        })
        .await?;
        Ok(Self {
            address: address.to_string(),
            events: events_tx,
            seen: seen_rx,
        })
    }

    /// Waits (at most `limit`) until the process asks for an event.
    pub async fn ready(&mut self, limit: Duration) -> Result<Instant> {
        match self.wait(limit).await? {
            Seen::Next(at) => Ok(at),
            Seen::Error(error) => bail!("the function reported an error: {error}"),
            other => bail!("expected the process to ask for an event, saw {other:?}"),
        }
    }

    /// Hands `event` to the waiting process and waits (at most `limit`) for
    /// its response: the time it took, and the response's status code.
    pub async fn invoke(&mut self, event: String, limit: Duration) -> Result<(Duration, u16)> {
        let sent = Instant::now();
        self.events.send(event).await.context("emulator stopped")?;
        match self.wait(limit).await? {
            Seen::Response(at, status) => Ok((at - sent, status)),
            Seen::Error(error) => bail!("the function reported an error: {error}"),
            other => bail!("expected a response, saw {other:?}"),
        }
    }

    async fn wait(&mut self, limit: Duration) -> Result<Seen> {
        tokio::time::timeout(limit, self.seen.recv())
            .await
            .context("the function did not call the Runtime API in time")?
            .context("emulator stopped")
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let now = Instant::now();
    if path.ends_with("/invocation/next") {
        let _ = shared.seen.send(Seen::Next(now));
        let Some(event) = shared.events.lock().await.recv().await else {
            return reply(500, "");
        };
        let deadline = SystemTime::now() + Duration::from_secs(10);
        let deadline_ms = deadline
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let id = crate::random_request_id();
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &id)
            .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            // Every invocation sampled: the most a trace can cost (Lambda
            // samples 1 a second and 5% of the rest).
            .header("lambda-runtime-trace-id", sampled_trace_header())
            .body(Full::new(Bytes::from(event)))
            .expect("valid response");
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if path.ends_with("/response") {
        let status = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["statusCode"].as_u64())
            .unwrap_or(0) as u16;
        let _ = shared.seen.send(Seen::Response(now, status));
    } else {
        let _ = shared
            .seen
            .send(Seen::Error(String::from_utf8_lossy(&body).into_owned()));
    }
    reply(202, "")
}

fn reply(status: u16, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid response")
}

/// A stand-in for Secrets Manager on 127.0.0.1 (plain HTTP; put
/// [`tls_endpoint`] in front): answers every `GetSecretValue` with `secret`.
/// The signers fetch the key ring during init in AWS; without it the
/// benchmark would hide that round trip and its TLS handshake, and could not
/// count who fetches ([`SECRET_FETCHES`]). Returns its address.
pub async fn secrets_manager(secret: &'static str) -> Result<SocketAddr> {
    listen(move |stream| {
        serve_http(stream, move |request| async move {
            SECRET_FETCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let target = amz_target(&request);
            let _ = request.into_body().collect().await;
            let response = if target == "secretsmanager.GetSecretValue" {
                let body = serde_json::json!({
                    "ARN": SECRET_ARN,
                    "Name": "bench",
                    "SecretString": secret,
                    "VersionId": "00000000-0000-0000-0000-000000000000",
                    "VersionStages": ["AWSCURRENT"],
                    "CreatedDate": 1.7e9,
                });
                Response::builder()
                    .status(200)
                    .header("content-type", "application/x-amz-json-1.1")
                    .body(Full::new(Bytes::from(body.to_string())))
            } else {
                Response::builder()
                    .status(400)
                    .body(Full::new(Bytes::new()))
            };
            response.expect("valid response")
        })
    })
    .await
}

/// The AWS JSON protocol's operation of a request (`X-Amz-Target`).
pub fn amz_target(request: &Request<Incoming>) -> String {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Requests the benchmark's Secrets Manager has answered so far.
pub static SECRET_FETCHES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Binds a free port on 127.0.0.1 and hands every connection to `connection`,
/// on a task of its own, for as long as the process runs. Returns the address.
pub async fn listen<F, Fut>(connection: F) -> Result<SocketAddr>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream));
        }
    });
    Ok(address)
}

/// Serves HTTP/1.1 on `stream`, each request answered by `respond`.
pub async fn serve_http<F, Fut>(stream: TcpStream, respond: F)
where
    F: Fn(Request<Incoming>) -> Fut,
    Fut: Future<Output = Response<Full<Bytes>>>,
{
    let service = hyper::service::service_fn(|request| {
        let response = respond(request);
        async move { Ok::<_, Infallible>(response.await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The ARN the signers are given (`JWT_KEY_RING_ARN`) in the benchmark.
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench";

/// Terminates TLS on 127.0.0.1 and forwards the bytes to `upstream`
/// (DynamoDB Local), with the certificate chain and key in PEM files. Returns
/// its address.
pub async fn tls_endpoint(
    cert_chain: &Path,
    key: &Path,
    upstream: SocketAddr,
) -> Result<SocketAddr> {
    use tokio_rustls::rustls::{self, pki_types::pem::PemObject};
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(cert_chain)
        .context("certificate chain")?
        .collect::<Result<Vec<_>, _>>()?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).context("private key")?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    listen(move |client| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut client) = acceptor.accept(client).await else {
                return;
            };
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
    })
    .await
}

/// A TCP relay on 127.0.0.1 to `upstream` that delays every chunk by half of
/// `rtt` each way (and a new connection by a whole one): loopback has no
/// network round trip, and what a TLS handshake costs in AWS is mostly round
/// trips. Returns its address.
pub async fn with_round_trip(upstream: SocketAddr, rtt: Duration) -> Result<SocketAddr> {
    listen(move |client| async move {
        let _ = client.set_nodelay(true);
        tokio::time::sleep(rtt).await;
        let Ok(server) = TcpStream::connect(upstream).await else {
            return;
        };
        let _ = server.set_nodelay(true);
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        let _ = tokio::join!(
            forward(&mut client_read, &mut server_write, rtt / 2),
            forward(&mut server_read, &mut client_write, rtt / 2),
        );
    })
    .await
}

/// Copies `from` to `to` until `from` ends, each chunk delivered `delay`
/// after it arrived: latency without a bandwidth limit (the chunks of one
/// response travel together, as on a network, not one delay after another).
async fn forward(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
    delay: Duration,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (chunks, mut due) = mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let read = async move {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = from.read(&mut buffer).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            let _ = chunks.send((tokio::time::Instant::now() + delay, buffer[..n].to_vec()));
        }
    };
    let write = async move {
        while let Some((at, chunk)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            to.write_all(&chunk).await?;
        }
        to.shutdown().await
    };
    let (read, write) = tokio::join!(read, write);
    read.and(write)
}

/// The peak resident set of a running process (`VmHWM`), in bytes.
pub fn peak_rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?;
    Ok(kib * 1024)
}

/// The `q`-quantile (0–1) of `values` by the nearest-rank method.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Everything measured for one binary.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// The binary's name.
    pub name: String,
    /// Process start → first `next`, one per cold start (ms).
    pub init_ms: Vec<f64>,
    /// Event handed over → response, the first invocation of each cold start (ms).
    pub first_ms: Vec<f64>,
    /// Process start → first response, each cold start: what a caller waits (ms).
    pub total_ms: Vec<f64>,
    /// Event handed over → response, warm invocations (ms).
    pub warm_ms: Vec<f64>,
    /// Peak RSS per cold start (bytes).
    pub rss: Vec<u64>,
    /// The stripped binary's size (bytes).
    pub binary: u64,
    /// The size of the zip that holds it as `bootstrap` (bytes).
    pub zip: u64,
    /// Status codes of every response.
    pub statuses: Vec<u16>,
    /// Secrets Manager requests over all its cold starts.
    pub secret_fetches: usize,
}

impl Figures {
    fn init(&self) -> f64 {
        quantile(&self.init_ms, 0.5)
    }
    fn first(&self) -> f64 {
        quantile(&self.first_ms, 0.5)
    }
    fn total(&self) -> f64 {
        quantile(&self.total_ms, 0.5)
    }
    fn rss_mb(&self) -> f64 {
        quantile(&self.rss.iter().map(|&b| b as f64).collect::<Vec<_>>(), 0.5) / 1_048_576.0
    }
    fn statuses(&self) -> String {
        let mut codes = self.statuses.clone();
        codes.sort_unstable();
        codes.dedup();
        codes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The Markdown table: one row per binary, medians of the cold starts, and
/// ratios to `baseline` (the DynamoDB client baseline) of the same run.
pub fn report(rows: &[Figures], baseline: &Figures) -> String {
    let mut out = String::from(
        "| function | init ms | first response ms | cold total ms | warm p50 ms | warm p99 ms | peak RSS MB | binary KB | zip KB | statuses | secret fetches | init × | first × | total × | RSS × | zip × |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            row.name,
            row.init(),
            row.first(),
            row.total(),
            quantile(&row.warm_ms, 0.5),
            quantile(&row.warm_ms, 0.99),
            row.rss_mb(),
            row.binary / 1024,
            row.zip / 1024,
            row.statuses(),
            row.secret_fetches,
            row.init() / baseline.init(),
            row.first() / baseline.first(),
            row.total() / baseline.total(),
            row.rss_mb() / baseline.rss_mb(),
            row.zip as f64 / baseline.zip as f64,
        ));
    }
    out
}

/// A fresh, sampled X-Ray trace header, as Lambda hands one to a traced
/// invocation: `Root=1-<time>-<random>;Parent=<segment>;Sampled=1`.
fn sampled_trace_header() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (random, parent): (u128, u64) = (rand::random(), rand::random());
    format!(
        "Root=1-{seconds:08x}-{:024x};Parent={:016x};Sampled=1",
        random & ((1 << 96) - 1),
        parent | 1
    )
}

/// A stand-in for the X-Ray agent Lambda runs beside a traced function: a
/// UDP socket on 127.0.0.1 that counts the datagrams it receives.
pub fn trace_agent()
-> std::io::Result<(std::net::SocketAddr, &'static std::sync::atomic::AtomicU64)> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let address = socket.local_addr()?;
    let received: &'static std::sync::atomic::AtomicU64 =
        Box::leak(Box::new(std::sync::atomic::AtomicU64::new(0)));
    std::thread::spawn(move || {
        let mut buffer = [0u8; 65_536];
        while socket.recv_from(&mut buffer).is_ok() {
            received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    Ok((address, received))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 50.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn the_report_divides_by_the_baseline_of_the_same_run() {
        let baseline = Figures {
            name: "baseline-client".into(),
            init_ms: vec![10.0],
            first_ms: vec![4.0],
            total_ms: vec![14.0],
            warm_ms: vec![1.0],
            rss: vec![4 << 20],
            binary: 2048,
            zip: 1000,
            statuses: vec![200],
            secret_fetches: 0,
        };
        let function = Figures {
            name: "get_tags".into(),
            init_ms: vec![5.0, 20.0, 15.0],
            first_ms: vec![6.0],
            total_ms: vec![21.0],
            rss: vec![6 << 20],
            zip: 1500,
            ..baseline.clone()
        };
        let table = report(&[function], &baseline);
        let row = table.lines().nth(2).expect("a row");
        assert!(row.starts_with("| get_tags | 15.0 | 6.0 | 21.0 |"), "{row}");
        assert!(
            row.ends_with("| 1.50 | 1.50 | 1.50 | 1.50 | 1.50 |"),
            "{row}"
        );
    }

    #[tokio::test]
    async fn the_emulator_times_a_process_that_speaks_the_runtime_api() {
        let mut emulator = Emulator::start().await.expect("emulator");
        let address = emulator.address.clone();
        // A stand-in function: asks for an event, answers 201.
        let function = tokio::spawn(async move {
            let client = reqwest_like(&address);
            let _event = client("GET", "/2018-06-01/runtime/invocation/next", "").await;
            client(
                "POST",
                "/2018-06-01/runtime/invocation/x/response",
                r#"{"statusCode":201}"#,
            )
            .await;
        });
        emulator.ready(Duration::from_secs(5)).await.expect("ready");
        let (took, status) = emulator
            .invoke("{}".into(), Duration::from_secs(5))
            .await
            .expect("response");
        assert_eq!(status, 201);
        assert!(took < Duration::from_secs(5));
        function.await.expect("function");
    }

    /// A one-request HTTP/1.1 client over a raw socket (enough for the test).
    fn reqwest_like(
        address: &str,
    ) -> impl Fn(
        &'static str,
        &'static str,
        &'static str,
    ) -> std::pin::Pin<Box<dyn Future<Output = String> + Send>> {
        let address = address.to_owned();
        move |method, path, body| {
            let address = address.clone();
            Box::pin(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut stream = TcpStream::connect(&address).await.expect("connect");
                let request = format!(
                    "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(request.as_bytes()).await.expect("write");
                let mut out = String::new();
                stream.read_to_string(&mut out).await.expect("read");
                out
            })
        }
    }
}
