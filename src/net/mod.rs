//! Downloads over HTTP(S): the JSON schemas a modeline names by URL, fetched only when the
//! user turned `schemaDownload` on. Every request has a deadline and a size bound; nothing is
//! sent but the GET itself.

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long one download may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Bodies bigger than this are refused.
pub const MAX_BYTES: usize = 8 << 20;

/// The text at `url` (`http` or `https`), or why it could not be fetched.
pub async fn get_text(url: &str) -> Result<String, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("no root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector);
    let fetch = async {
        let response = client.get(uri).await.map_err(|e| e.to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered {status}"));
        }
        let body = Limited::new(response.into_body(), MAX_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?;
        String::from_utf8(body.to_bytes().to_vec()).map_err(|_| "not UTF-8 text".to_string())
    };
    match tokio::time::timeout(TIMEOUT, fetch).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
    }
}
