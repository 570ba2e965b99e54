//! Where document bytes live. The database holds metadata and the SHA-256; the store
//! holds bytes under a generated key (never the client's file name).
//!
//! Uploads are streamed to a temporary file in the store's own folder while the digest
//! and size are computed, then renamed into place (atomic on one file system). A failed
//! or refused upload leaves nothing behind; `jembatan check` finds what a crash between
//! rename and commit could leave (bytes without a row).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the document exceeds the limit of {0} bytes")]
    TooLarge(u64),
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Bytes being written: feed chunks, then `finish` or drop (which removes them).
pub struct PendingWrite {
    temp: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    limit: u64,
    /// The first bytes, kept for sniffing the content type.
    pub head: Vec<u8>,
}

pub const SNIFF_BYTES: usize = 64 * 1024;

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
        if let Some(f) = self.file.as_mut() {
            f.write_all(chunk).await?;
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        // Not finished: remove the partial bytes.
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A document's bytes, stored: its key, size and digest.
#[derive(Debug, Clone)]
pub struct Stored {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        // Keys are ours (hex + `/`); refuse anything else rather than trust it.
        let ok = key.len() <= 128 && key.chars().all(|c| c.is_ascii_hexdigit() || c == '/' || c == '-');
        ok.then(|| self.root.join(key))
    }

    pub async fn begin(&self, limit: u64) -> Result<PendingWrite, StoreError> {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await?;
        let temp = tmp_dir.join(Uuid::new_v4().to_string());
        let file = tokio::fs::File::create(&temp).await?;
        Ok(PendingWrite { temp, file: Some(file), hasher: Sha256::new(), size: 0, limit, head: Vec::new() })
    }

    /// Flushes, syncs and moves the bytes to their final key.
    pub async fn finish(&self, mut w: PendingWrite) -> Result<Stored, StoreError> {
        let mut file = w.file.take().ok_or_else(|| std::io::Error::other("write already finished"))?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let id = Uuid::now_v7().simple().to_string();
        let key = format!("{}/{}/{}", &id[28..30], &id[30..32], id);
        let path = self.root.join(&key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temp = std::mem::take(&mut w.temp);
        if let Err(e) = tokio::fs::rename(&temp, &path).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e.into());
        }
        // The rename is durable only once its directory is: a committed row must not
        // outlive its bytes after a power loss.
        if let Some(parent) = path.parent() {
            tokio::fs::File::open(parent).await?.sync_all().await?;
        }
        let sha256 = hex::encode(std::mem::take(&mut w.hasher).finalize());
        Ok(Stored { key, size: w.size, sha256 })
    }

    pub async fn open(&self, key: &str) -> Result<tokio::fs::File, StoreError> {
        let path = self.path_of(key).ok_or_else(|| std::io::Error::other("invalid storage key"))?;
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
