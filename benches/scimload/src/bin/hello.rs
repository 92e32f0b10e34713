//! `hello`: the baseline. A bare hyper 1 HTTP/1.1 server answering `GET /` with a tiny body, built from
//! the same hyper, hyper-util and tokio versions as scimbox, so that a scenario's throughput can be read
//! as a fraction of what this machine's HTTP stack does with no work at all. It prints the bound address
//! (`hello listening on http://ADDR`) as its first line and exits on SIGTERM or Ctrl-C.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use tokio::net::TcpListener;

/// A bare hyper hello-world, the baseline scimload compares SCIM servers with.
#[derive(Debug, Parser)]
#[command(name = "hello", version)]
struct Args {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    listen: SocketAddr,
}

async fn answer(request: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => (StatusCode::OK, "Hello, world!\n"),
        _ => (StatusCode::NOT_FOUND, "Not found\n"),
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// The allocator scimbox uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(args.listen).await?;
    println!("hello listening on http://{}", listener.local_addr()?);
    scimload::baseline::serve(listener, || service_fn(answer)).await?;
    Ok(())
}
