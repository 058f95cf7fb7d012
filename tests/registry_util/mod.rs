//! A registry for pull tests, served by the test itself on loopback: the
//! Distribution API v2 for one image, enough for `docker pull` over plain
//! HTTP (the engine treats 127.0.0.0/8 as an insecure registry and falls
//! back from HTTPS). The image is a local image re-labelled, so that
//! its id differs from the source and proves that the pull happened.

// Each test file uses a different part of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{TestProject, assert_success};

const MANIFEST_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
const CONFIG_TYPE: &str = "application/vnd.docker.container.image.v1+json";
// The engine detects the compression of a layer itself, so an
// uncompressed tar passes under the gzip media type.
const LAYER_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// Returns a loopback port on which nothing listens, taken from the
/// kernel and released at once.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// What the registry serves: one manifest and its blobs by digest.
struct Content {
    manifest: Vec<u8>,
    manifest_digest: String,
    blobs: BTreeMap<String, Vec<u8>>,
}

/// A registry that serves one image under any repository and tag until it
/// is dropped.
pub struct Registry {
    port: u16,
    image_id: String,
    manifest_requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Registry {
    /// Serves `source` (a local image) with the label
    /// `berth.test.registry=<marker>` added to its config.
    pub fn serve_image(project: &TestProject, source: &str, marker: &str) -> Registry {
        let (config, layers) = saved_image(project, source);
        let mut config: Value = serde_json::from_slice(&config).expect("image config is JSON");
        let labels = &mut config["config"]["Labels"];
        if !labels.is_object() {
            *labels = json!({});
        }
        labels["berth.test.registry"] = json!(marker);
        let config = serde_json::to_vec(&config).expect("serialize the config");

        let digest = |bytes: &[u8]| format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        let mut blobs = BTreeMap::new();
        let config_digest = digest(&config);
        let layer_entries: Vec<Value> = layers
            .iter()
            .map(|layer| {
                let layer_digest = digest(layer);
                blobs.insert(layer_digest.clone(), layer.clone());
                json!({"mediaType": LAYER_TYPE, "size": layer.len(), "digest": layer_digest})
            })
            .collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "size": config.len(), "digest": config_digest},
            "layers": layer_entries,
        }))
        .expect("serialize the manifest");
        blobs.insert(config_digest.clone(), config);
        let content = Arc::new(Content {
            manifest_digest: digest(&manifest),
            manifest,
            blobs,
        });

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the registry port");
        let port = listener.local_addr().expect("local address").port();
        let manifest_requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (requests, stopped) = (manifest_requests.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (content, requests) = (content.clone(), requests.clone());
                thread::spawn(move || serve(stream, &content, &requests));
            }
        });
        Registry {
            port,
            image_id: config_digest,
            manifest_requests,
            stop,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the id the engine gives the pulled image: the config's
    /// digest.
    pub fn image_id(&self) -> &str {
        &self.image_id
    }

    /// Returns how many manifest requests the registry served.
    pub fn manifest_requests(&self) -> usize {
        self.manifest_requests.load(Ordering::SeqCst)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it reads the flag and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads the config and the layer tars of a local image from `docker save`.
fn saved_image(project: &TestProject, source: &str) -> (Vec<u8>, Vec<Vec<u8>>) {
    let out = project.docker(&["save", source]);
    assert_success(&out, &format!("docker save {source}"));
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    for entry in archive.entries().expect("docker save output is a tar") {
        let mut entry = entry.expect("tar entry");
        let path = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read a tar entry");
        files.insert(path, bytes);
    }
    let manifest: Value =
        serde_json::from_slice(&files["manifest.json"]).expect("manifest.json is JSON");
    let config_path = manifest[0]["Config"].as_str().expect("a config path");
    let layers = manifest[0]["Layers"]
        .as_array()
        .expect("a layer list")
        .iter()
        .map(|layer| files[layer.as_str().expect("a layer path")].clone())
        .collect();
    (files[config_path].clone(), layers)
}

/// Serves one request and closes the connection.
fn serve(mut stream: TcpStream, content: &Content, manifest_requests: &AtomicUsize) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
        // A TLS handshake, or anything else that is not HTTP: closing the
        // connection makes the engine retry over plain HTTP.
        if head.len() == 1 && !head[0].is_ascii_uppercase() {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();

    let (status, content_type, digest, body): (&str, &str, Option<&str>, &[u8]) =
        if path == "/v2/" || path == "/v2" {
            ("200 OK", "application/json", None, b"{}")
        } else if path.contains("/manifests/") {
            manifest_requests.fetch_add(1, Ordering::SeqCst);
            let digest = content.manifest_digest.as_str();
            ("200 OK", MANIFEST_TYPE, Some(digest), &content.manifest)
        } else if let Some((_, digest)) = path.split_once("/blobs/") {
            match content.blobs.get_key_value(digest) {
                Some((digest, blob)) => (
                    "200 OK",
                    "application/octet-stream",
                    Some(digest.as_str()),
                    blob.as_slice(),
                ),
                None => ("404 Not Found", "application/json", None, b"{}"),
            }
        } else {
            ("404 Not Found", "application/json", None, b"{}")
        };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Docker-Distribution-API-Version: registry/2.0\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(digest) = digest {
        response.push_str(&format!("Docker-Content-Digest: {digest}\r\n"));
    }
    response.push_str("\r\n");
    let _ = stream.write_all(response.as_bytes());
    if method != "HEAD" {
        let _ = stream.write_all(body);
    }
}
