//! Where document bytes live. The database holds metadata and the SHA-256; the store
//! holds bytes under a generated key (never the client's file name): `xx/yy/<uuidv7 hex>`.
//!
//! Two stores, chosen by `JEMBATAN_STORAGE_URL` (`Store::from_settings`):
//!
//! - **A local folder** (`file:///abs/path`, or unset: `JEMBATAN_STORAGE_DIR`). Uploads are
//!   streamed to a temporary file in the store's own folder while the digest and size are
//!   computed, then synced and renamed into place (atomic on one file system).
//! - **An S3-compatible bucket** (`s3://bucket[/prefix]`, through `object_store`; endpoint
//!   and credentials from the usual `AWS_*` variables). Uploads up to one part are sent as
//!   one PUT when they end; bigger ones go out as a multipart upload, a part as soon as
//!   one is full, while the digest and size are computed. An object appears only when its
//!   PUT or its multipart upload completes, so a reader never sees half of one.
//!
//! Either way a failed or refused upload leaves nothing behind: the temporary file is
//! removed, the multipart upload aborted (`PendingWrite::discard`; dropping one unfinished
//! does the same in the background). `jembatan check` finds what a crash between "bytes in
//! place" and the row's commit could leave (bytes without a row).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWriteExt};
use uuid::Uuid;

use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the document exceeds the limit of {0} bytes")]
    TooLarge(u64),
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The object store refused or could not be reached (after its retries).
    #[error("the object store failed: {0}")]
    Object(#[from] object_store::Error),
    #[error("invalid storage key")]
    InvalidKey,
}

impl StoreError {
    /// No bytes under that key.
    pub fn is_not_found(&self) -> bool {
        match self {
            StoreError::Io(e) => e.kind() == std::io::ErrorKind::NotFound,
            StoreError::Object(object_store::Error::NotFound { .. }) => true,
            _ => false,
        }
    }
}

pub const SNIFF_BYTES: usize = 64 * 1024;

/// The size of a multipart upload's parts (S3's smallest allowed, but for the last part).
/// An upload no bigger than this is sent as one PUT. At most 10 000 parts: 50 GB.
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// Parts of one upload on their way at once: an upload holds at most this many parts and
/// one being filled in memory.
const PARTS_IN_FLIGHT: usize = 2;

/// Whether `key` has the shape of a key this store made: `/`-separated non-empty segments
/// of hex digits and `-` (older keys were hyphenated UUIDs). A key read from the database is
/// used only after this check: no `..`, no absolute path, no other prefix.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 128
        && key.split('/').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

fn new_key() -> String {
    let id = Uuid::now_v7().simple().to_string();
    format!("{}/{}/{}", &id[28..30], &id[30..32], id)
}

/// Bytes being written: feed chunks, then `finish` or `discard` (dropping it discards too,
/// in the background).
pub struct PendingWrite {
    hasher: Sha256,
    size: u64,
    limit: u64,
    /// The first bytes, kept for sniffing the content type.
    pub head: Vec<u8>,
    sink: Sink,
}

enum Sink {
    File { root: PathBuf, temp: PathBuf, file: Option<tokio::fs::File> },
    Object(ObjectSink),
}

/// An upload to the bucket: bytes held until they fill a part, then a multipart upload.
struct ObjectSink {
    store: S3Store,
    key: String,
    held: Vec<u8>,
    upload: Option<WriteMultipart>,
}

impl PendingWrite {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(StoreError::TooLarge(self.limit));
        }
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        match &mut self.sink {
            Sink::File { file: Some(f), .. } => f.write_all(chunk).await?,
            Sink::File { file: None, .. } => {}
            Sink::Object(o) => o.write(chunk).await?,
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Puts the bytes in place under a new key: a local file is synced and renamed, an
    /// object PUT or its multipart upload completed. On failure nothing is left.
    pub async fn finish(mut self) -> Result<Stored, StoreError> {
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let size = self.size;
        let key = match &mut self.sink {
            Sink::File { root, temp, file } => {
                let file = file.take().ok_or_else(|| std::io::Error::other("write already finished"))?;
                let temp = std::mem::take(temp);
                finish_file(root, &temp, file).await.inspect_err(|_| {
                    let _ = std::fs::remove_file(&temp);
                })?
            }
            Sink::Object(o) => o.finish().await?,
        };
        Ok(Stored { key, size, sha256 })
    }

    /// Gives up: removes the temporary file, or aborts the multipart upload (its parts are
    /// deleted by the bucket).
    pub async fn discard(mut self) {
        if let Sink::Object(o) = &mut self.sink
            && let Some(upload) = o.upload.take()
            && let Err(e) = upload.abort().await
        {
            tracing::warn!(error = %e, "could not abort a multipart upload; the bucket's lifecycle rule must remove it");
        }
        // Drop removes a temporary file.
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        match &mut self.sink {
            // Not finished: remove the partial bytes.
            Sink::File { temp, file: Some(_), .. } => {
                let _ = std::fs::remove_file(temp);
            }
            Sink::File { .. } => {}
            Sink::Object(o) => {
                // Drop cannot wait: an unfinished multipart upload (a client gone mid-upload,
                // a handler cancelled) is aborted on the runtime in the background.
                if let Some(upload) = o.upload.take() {
                    match tokio::runtime::Handle::try_current() {
                        Ok(rt) => {
                            rt.spawn(async move {
                                if let Err(e) = upload.abort().await {
                                    tracing::warn!(error = %e, "could not abort an abandoned multipart upload");
                                }
                            });
                        }
                        Err(_) => {
                            tracing::warn!("an abandoned multipart upload is left to the bucket's lifecycle rule")
                        }
                    }
                }
            }
        }
    }
}

async fn finish_file(root: &Path, temp: &Path, mut file: tokio::fs::File) -> Result<String, StoreError> {
    file.flush().await?;
    file.sync_all().await?;
    drop(file);
    let key = new_key();
    let path = root.join(&key);
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    tokio::fs::rename(temp, &path).await?;
    // The rename is durable only once its directory is: a committed row must not outlive
    // its bytes after a power loss.
    if let Some(parent) = path.parent() {
        tokio::fs::File::open(parent).await?.sync_all().await?;
    }
    Ok(key)
}

impl ObjectSink {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        if let Some(upload) = self.upload.as_mut() {
            // Back pressure: wait for a part to be sent before taking more into memory.
            upload.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            upload.write(chunk);
            return Ok(());
        }
        self.held.extend_from_slice(chunk);
        if self.held.len() > PART_BYTES {
            // More than one part: from here on it is a multipart upload.
            let location = self.store.location(&self.key)?;
            let upload = self.store.inner.put_multipart(&location).await?;
            let mut upload = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            upload.put(bytes::Bytes::from(std::mem::take(&mut self.held)));
            self.upload = Some(upload);
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<String, StoreError> {
        let location = self.store.location(&self.key)?;
        match self.upload.take() {
            // WriteMultipart aborts the upload itself when a part or the completion fails.
            Some(upload) => {
                upload.finish().await?;
            }
            None => {
                let bytes = bytes::Bytes::from(std::mem::take(&mut self.held));
                self.store.inner.put(&location, PutPayload::from(bytes)).await?;
            }
        }
        Ok(self.key.clone())
    }
}

/// A document's bytes, stored: its key, size and digest.
#[derive(Debug, Clone)]
pub struct Stored {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

/// Bytes to read: a file, or an object's body as it arrives.
pub type Reader = Box<dyn AsyncRead + Send + Unpin>;

/// A stored key and when it was last written.
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: String,
    pub modified: SystemTime,
}

/// The document store this deployment uses.
#[derive(Debug, Clone)]
pub enum Store {
    Local(LocalStore),
    S3(S3Store),
}

/// Where `JEMBATAN_STORAGE_URL` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Location {
    /// `file:///abs/path` or `s3://bucket[/prefix]`. The error never repeats the URL (it
    /// may carry a password by mistake).
    pub fn parse(url: &str) -> Result<Location, String> {
        let parsed = url::Url::parse(url.trim()).map_err(|e| format!("is not a URL ({e})"))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into());
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err("takes no query or fragment".into());
        }
        match parsed.scheme() {
            "file" => {
                if parsed.host_str().is_some_and(|h| !h.is_empty() && h != "localhost") {
                    return Err("file:// names a folder on this machine: file:///absolute/path".into());
                }
                let path = parsed.to_file_path().map_err(|_| "file:// needs an absolute path".to_owned())?;
                Ok(Location::Local(path))
            }
            "s3" => {
                let bucket = parsed.host_str().unwrap_or_default().to_owned();
                let bucket_ok = (3..=63).contains(&bucket.len())
                    && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
                if !bucket_ok {
                    return Err("s3:// needs a bucket name (3–63 lower-case letters, digits, `-`, `.`)".into());
                }
                let prefix = parsed.path().trim_matches('/').to_owned();
                let prefix_ok = prefix.is_empty()
                    || prefix.split('/').all(|s| {
                        !s.is_empty()
                            && s != "."
                            && s != ".."
                            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    });
                if !prefix_ok {
                    return Err("the prefix after the bucket must be segments of letters, digits, `-`, `_`, `.`".into());
                }
                Ok(Location::S3 { bucket, prefix })
            }
            other => {
                Err(format!("has the unknown scheme `{other}`: use file:///absolute/path or s3://bucket[/prefix]"))
            }
        }
    }
}

impl Store {
    /// The store the settings name (`Settings::check` has validated them).
    pub fn from_settings(settings: &Settings) -> Result<Store, String> {
        match settings.storage_location()? {
            Location::Local(dir) => Ok(Store::Local(LocalStore::new(dir))),
            Location::S3 { bucket, prefix } => {
                S3Store::new(&bucket, &prefix, &settings.storage_s3_options).map(Store::S3)
            }
        }
    }

    /// Where the bytes go, for logs and the check's report (never credentials).
    pub fn describe(&self) -> String {
        match self {
            Store::Local(l) => format!("folder {}", l.root.display()),
            Store::S3(s) if s.prefix.is_empty() => format!("s3://{}", s.bucket),
            Store::S3(s) => format!("s3://{}/{}", s.bucket, s.prefix),
        }
    }

    pub async fn begin(&self, limit: u64) -> Result<PendingWrite, StoreError> {
        let sink = match self {
            Store::Local(l) => l.sink().await?,
            Store::S3(s) => {
                Sink::Object(ObjectSink { store: s.clone(), key: new_key(), held: Vec::new(), upload: None })
            }
        };
        Ok(PendingWrite { hasher: Sha256::new(), size: 0, limit, head: Vec::new(), sink })
    }

    pub async fn open(&self, key: &str) -> Result<Reader, StoreError> {
        match self {
            Store::Local(l) => Ok(Box::new(l.open(key).await?)),
            Store::S3(s) => s.open(key).await,
        }
    }

    /// The stored size of `key`'s bytes.
    pub async fn size_of(&self, key: &str) -> Result<u64, StoreError> {
        match self {
            Store::Local(l) => Ok(l.open(key).await?.metadata().await?.len()),
            Store::S3(s) => Ok(s.inner.head(&s.location(key)?).await?.size),
        }
    }

    pub async fn remove(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Store::Local(l) => l.remove(key).await,
            Store::S3(s) => Ok(s.inner.delete(&s.location(key)?).await?),
        }
    }

    /// Every stored key and its age (for the consistency check). Local temporary files
    /// are not keys.
    pub async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        match self {
            Store::Local(l) => {
                let root = l.root.clone();
                Ok(l.keys()
                    .into_iter()
                    .filter_map(|key| {
                        let modified = std::fs::metadata(root.join(&key)).and_then(|m| m.modified()).ok()?;
                        Some(Listed { key, modified })
                    })
                    .collect())
            }
            Store::S3(s) => s.list().await,
        }
    }

    /// Whether the store answers (one listing request, at start-up).
    pub async fn probe(&self) -> Result<(), StoreError> {
        match self {
            Store::Local(_) => Ok(()),
            Store::S3(s) => {
                let prefix = s.prefix_path();
                let mut listing = s.inner.list(prefix.as_ref());
                listing.next().await.transpose()?;
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        // Keys are ours; refuse anything else rather than trust it.
        valid_key(key).then(|| self.root.join(key))
    }

    async fn sink(&self) -> Result<Sink, StoreError> {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await?;
        let temp = tmp_dir.join(Uuid::new_v4().to_string());
        let file = tokio::fs::File::create(&temp).await?;
        Ok(Sink::File { root: self.root.clone(), temp, file: Some(file) })
    }

    pub async fn open(&self, key: &str) -> Result<tokio::fs::File, StoreError> {
        let path = self.path_of(key).ok_or(StoreError::InvalidKey)?;
        Ok(tokio::fs::File::open(path).await?)
    }

    pub async fn remove(&self, key: &str) -> Result<(), StoreError> {
        if let Some(p) = self.path_of(key) {
            tokio::fs::remove_file(p).await?;
        }
        Ok(())
    }

    /// Every stored key (for the consistency check).
    pub fn keys(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    if p.file_name().is_some_and(|n| n == "tmp") {
                        continue;
                    }
                    walk(&p, root, out);
                } else if let Ok(rel) = p.strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &self.root, &mut out);
        out
    }
}

/// A bucket (and optional prefix) on an S3-compatible server.
#[derive(Debug, Clone)]
pub struct S3Store {
    inner: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
}

impl S3Store {
    /// The `AWS_*` environment first, then `options` (config keys such as `aws_endpoint`,
    /// for tests and embedding). Retries are bounded so a dead server turns an upload into
    /// an error within seconds, not minutes.
    pub fn new(bucket: &str, prefix: &str, options: &[(String, String)]) -> Result<S3Store, String> {
        crate::signer::install_tls_provider();
        let mut builder = AmazonS3Builder::from_env();
        for (key, value) in options {
            let key: AmazonS3ConfigKey =
                key.to_ascii_lowercase().parse().map_err(|_| format!("unknown object store option `{key}`"))?;
            builder = builder.with_config(key, value);
        }
        let retry =
            RetryConfig { max_retries: 3, retry_timeout: std::time::Duration::from_secs(20), ..Default::default() };
        let inner = builder
            .with_bucket_name(bucket)
            .with_retry(retry)
            .build()
            // The builder's errors name settings, not their values.
            .map_err(|e| format!("cannot use the bucket `{bucket}`: {e}"))?;
        Ok(S3Store { inner: Arc::new(inner), bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }

    fn prefix_path(&self) -> Option<ObjectPath> {
        (!self.prefix.is_empty()).then(|| ObjectPath::from_iter(self.prefix.split('/')))
    }

    /// The object of a key; only keys of our shape (`valid_key`) have one.
    fn location(&self, key: &str) -> Result<ObjectPath, StoreError> {
        if !valid_key(key) {
            return Err(StoreError::InvalidKey);
        }
        let full = if self.prefix.is_empty() { key.to_owned() } else { format!("{}/{key}", self.prefix) };
        ObjectPath::parse(full).map_err(|_| StoreError::InvalidKey)
    }

    async fn open(&self, key: &str) -> Result<Reader, StoreError> {
        let body = self.inner.get(&self.location(key)?).await?.into_stream().map_err(std::io::Error::other);
        Ok(Box::new(tokio_util::io::StreamReader::new(body)))
    }

    async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let prefix = self.prefix_path();
        let strip = if self.prefix.is_empty() { String::new() } else { format!("{}/", self.prefix) };
        let mut out = Vec::new();
        let mut listing = self.inner.list(prefix.as_ref());
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let full = meta.location.as_ref();
            let key = full.strip_prefix(&strip).unwrap_or(full).to_owned();
            out.push(Listed { key, modified: SystemTime::from(meta.last_modified) });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_the_database_are_trusted_only_in_our_shape() {
        assert!(valid_key("ab/cd/0193a1f06c0070008000000000abcdef"));
        assert!(valid_key("ab/cd/0193a1f0-6c00-7000-8000-000000abcdef"));
        for bad in ["", "/bad/cafe", "ab//cd", "ab/cd/", "../ab", "ab/../cd", "ab/cd/x.pdf", "ab\\cd", "a b"] {
            assert!(!valid_key(bad), "{bad:?}");
        }
        assert!(!valid_key(&"a".repeat(129)));
        assert!(valid_key(&new_key()));
    }

    #[test]
    fn storage_urls() {
        assert_eq!(Location::parse("file:///srv/docs").unwrap(), Location::Local("/srv/docs".into()));
        assert_eq!(
            Location::parse("s3://jembatan-docs").unwrap(),
            Location::S3 { bucket: "jembatan-docs".into(), prefix: String::new() }
        );
        assert_eq!(
            Location::parse("s3://jembatan-docs/prod/documents/").unwrap(),
            Location::S3 { bucket: "jembatan-docs".into(), prefix: "prod/documents".into() }
        );
        let err = Location::parse("ftp://host/x").unwrap_err();
        assert!(err.contains("unknown scheme `ftp`"), "{err}");
        let err = Location::parse("s3://AKIA:hunter2@bucket").unwrap_err();
        assert!(!err.contains("hunter2") && err.contains("credentials"), "{err}");
        assert!(Location::parse("s3://b").is_err(), "bucket names have at least 3 characters");
        assert!(Location::parse("s3://bucket/a%2F..%2Fb").is_err());
        assert!(Location::parse("s3://bucket?x=1").is_err());
        assert!(Location::parse("file://server/share").is_err());
        assert!(Location::parse("relative/path").is_err());
    }
}
