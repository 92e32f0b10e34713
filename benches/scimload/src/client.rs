//! One virtual user's HTTP/1.1 keep-alive connection, made with hyper's connection API directly (no pool,
//! no redirects, no proxy: nothing between the measurement and the socket). A broken connection is
//! dropped and the next request opens a new one to the same target, which is the only address this
//! module ever connects to.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::target::Target;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection could be opened.
    Connect(String),
    /// The connection broke during the exchange.
    Connection(String),
    /// No complete response within the timeout.
    Timeout,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(cause) => write!(f, "cannot connect: {cause}"),
            Failure::Connection(cause) => write!(f, "connection failed: {cause}"),
            Failure::Timeout => write!(f, "no response within the timeout"),
        }
    }
}

/// One connection (opened lazily, reopened after a failure) and the headers every request carries.
pub struct Client {
    target: Arc<Target>,
    host: HeaderValue,
    authorization: Option<HeaderValue>,
    timeout: Duration,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of debug output.
        f.debug_struct("Client").field("target", &self.target).field("connected", &self.sender.is_some()).finish()
    }
}

impl Client {
    pub fn new(target: Arc<Target>, token: Option<&str>, timeout: Duration) -> Result<Client, String> {
        let host =
            HeaderValue::from_str(&target.authority()).map_err(|_| "the base URL's host is not a valid header")?;
        let authorization = match token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| "the token contains characters a header cannot carry")?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Client { target, host, authorization, timeout, sender: None })
    }

    /// Sends one request to `relative` (a path below the base URL) and reads the whole response.
    pub async fn send(&mut self, method: Method, relative: &str, body: Option<Bytes>) -> Result<Reply, Failure> {
        match tokio::time::timeout(self.timeout, self.exchange(method, relative, body)).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(failure)) => Err(failure),
            Err(_) => {
                // The connection may still carry the late response: never reuse it.
                self.sender = None;
                Err(Failure::Timeout)
            }
        }
    }

    async fn exchange(&mut self, method: Method, relative: &str, body: Option<Bytes>) -> Result<Reply, Failure> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.connect().await?,
        };
        sender.ready().await.map_err(|e| Failure::Connection(e.to_string()))?;
        let mut request = Request::builder()
            .method(method)
            .uri(self.target.path(relative))
            .header(header::HOST, self.host.clone())
            .header(header::ACCEPT, "application/scim+json")
            .header(header::USER_AGENT, concat!("scimload/", env!("CARGO_PKG_VERSION")));
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/scim+json");
        }
        let request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| Failure::Connection(format!("cannot build the request: {e}")))?;
        let response = sender.send_request(request).await.map_err(|e| Failure::Connection(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|e| Failure::Connection(e.to_string()))?.to_bytes();
        self.sender = Some(sender);
        Ok(Reply { status, body })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let stream = TcpStream::connect((self.target.connect_host(), self.target.port))
            .await
            .map_err(|e| Failure::Connect(format!("{}: {e}", self.target.authority())))?;
        // Requests are small and answered one at a time: Nagle would only add latency.
        stream.set_nodelay(true).map_err(|e| Failure::Connect(e.to_string()))?;
        let (sender, connection) =
            http1::handshake(TokioIo::new(stream)).await.map_err(|e| Failure::Connect(e.to_string()))?;
        tokio::spawn(async move {
            // Its end (the server closing, or this client dropping the sender) is seen by the next send.
            let _ = connection.await;
        });
        Ok(sender)
    }
}
