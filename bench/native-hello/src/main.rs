//! Native hyper 1 "hello, world" server, the baseline of `bench/run.sh`.
//!
//! It does the least an HTTP/1.1 server can do (no routing, no Wasm) so the benchmark shows
//! how far crm-host is from the ceiling on the same machine.
//!
//! Usage: `native-hello [--listen 127.0.0.1:8080]`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const BODY: &str = "hello, world\n";
const USAGE: &str = "usage: native-hello [--listen ADDR:PORT]   (default 127.0.0.1:8080)";

fn main() -> ExitCode {
    let addr = match parse_listen(std::env::args().skip(1)) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("native-hello: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("native-hello: cannot start the tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("native-hello: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Reads `--listen ADDR` / `--listen=ADDR`; `Ok(None)` means `--help` was asked for.
fn parse_listen(mut args: impl Iterator<Item = String>) -> Result<Option<SocketAddr>, String> {
    let mut listen = DEFAULT_LISTEN.to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => {
                listen = args
                    .next()
                    .ok_or_else(|| "--listen needs a value".to_owned())?;
            }
            other => match other.strip_prefix("--listen=") {
                Some(value) => listen = value.to_owned(),
                None => return Err(format!("unexpected argument `{other}`")),
            },
        }
    }
    listen
        .parse()
        .map(Some)
        .map_err(|err| format!("invalid --listen address `{listen}`: {err}"))
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!(
        "native-hello listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(conn) => conn,
            // Running out of file descriptors or a reset before accept must not stop the server.
            Err(err) => {
                eprintln!("native-hello: accept failed: {err}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // The response goes out in one write; Nagle would only add latency.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let conn =
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello));
            if let Err(err) = conn.await {
                eprintln!("native-hello: connection error: {err}");
            }
        });
    }
}

async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
