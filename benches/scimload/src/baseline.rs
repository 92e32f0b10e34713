//! What the two baseline servers (`hello`, `naive`) share: serving plain HTTP/1.1 on a listener, one
//! task per connection, until SIGTERM or Ctrl-C.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// Serves each accepted connection with the service `service` makes for it, until told to stop.
pub async fn serve<F, S>(listener: TcpListener, service: F) -> std::io::Result<()>
where
    F: Fn() -> S,
    S: Service<Request<Incoming>, Response = Response<Full<Bytes>>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let mut terminate = signal(SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let service = service();
                tokio::spawn(async move {
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = terminate.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
