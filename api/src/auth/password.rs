//! Argon2id password hashing (OWASP parameters), run on a small dedicated thread pool so a
//! burst of logins never stalls the async workers; and the password policy.

use std::sync::{Arc, LazyLock, Mutex, mpsc};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, ApiResult};

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

fn argon2() -> Argon2<'static> {
    // OWASP: m=19456 KiB, t=2, p=1 (the minimum we accept; see docs/API-DESIGN.md).
    let params = Params::new(19_456, 2, 1, None).expect("static Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a random password, verified against when the username is unknown, so that
/// "no such user" costs the same time as "wrong password".
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking(&uuid::Uuid::new_v4().to_string()).expect("hashing a random password succeeds"));

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2().hash_password(password.as_bytes(), &salt)?.to_string())
}

fn verify_blocking(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// How many Argon2 computations run at once: one core is left to the request workers, so
/// a burst of sign-ins queues here instead of starving every other request of CPU (and of
/// memory: each computation holds 19 MiB).
fn hashers() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    cores.saturating_sub(1).max(1)
}

/// A small dedicated pool for Argon2, off the async workers and off tokio's blocking pool
/// (which would run hundreds at once). Jobs wait in a queue; callers await a oneshot.
static POOL: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..hashers() {
        let rx = Arc::clone(&rx);
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    let next = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = next else { return };
                    // A panicking job drops its reply sender; the caller sees an error.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .expect("spawn a password-hashing thread");
    }
    tx
});

async fn on_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(f());
    });
    POOL.send(job).map_err(|_| ApiError::internal("password hashing pool is gone"))?;
    answer.await.map_err(|_| ApiError::internal("password hashing failed"))
}

pub async fn hash(password: String) -> ApiResult<String> {
    on_pool(move || hash_blocking(&password)).await?.map_err(ApiError::internal)
}

/// Verifies `password` against `hash`, or against a dummy hash when there is no user.
pub async fn verify(hash: Option<String>, password: String) -> ApiResult<bool> {
    on_pool(move || match hash {
        Some(h) => verify_blocking(&h, &password),
        None => {
            verify_blocking(&DUMMY_HASH, &password);
            false
        }
    })
    .await
}

/// Words an attacker would try first here, on top of zxcvbn's English lists: the
/// office's own names and the Indonesian words of the common-password lists.
const LOCAL_WORDS: &[&str] = &[
    "jembatan",
    "trenggalek",
    "diskominfo",
    "kominfo",
    "pemkab",
    "pemerintah",
    "rahasia",
    "rahasiaku",
    "katasandi",
    "passwordku",
    "sayangkamu",
    "indonesia",
    "indonesiaraya",
    "merdeka",
    "bismillah",
    "alhamdulillah",
];

/// The weakest zxcvbn score we accept: 3, "safely unguessable: moderate protection from
/// offline slow-hash scenario" (< 10^10 guesses), which Argon2id makes expensive.
const MIN_SCORE: u8 = 3;

/// The policy (ASVS 6.2): 12–256 characters, not the username, and not guessable: zxcvbn
/// estimates the guesses needed against its embedded lists (30 000 common passwords,
/// names, English words, keyboard patterns, dates, repeats) and our local words.
pub fn check_policy(password: &str, username: &str) -> Result<(), crate::i18n::Msg> {
    use crate::msg;
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(msg!("password-too-short", min = MIN_LENGTH));
    }
    if chars > MAX_LENGTH {
        return Err(msg!("text-at-most", max = MAX_LENGTH));
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(msg!("password-has-username"));
    }
    let first = lower.chars().next();
    if lower.chars().all(|c| Some(c) == first) {
        return Err(msg!("password-repeated"));
    }
    let mut inputs: Vec<&str> = LOCAL_WORDS.to_vec();
    if !username.is_empty() {
        inputs.push(username);
    }
    // zxcvbn's cost grows with the length; its authors cap the input near 100 characters,
    // and a passphrase that long is strong on its first 100 anyway.
    let head: String = password.chars().take(100).collect();
    let estimate = zxcvbn::zxcvbn(&head, &inputs);
    if u8::from(estimate.score()) < MIN_SCORE {
        // zxcvbn's own warning is English only.
        let why = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
        return Err(msg!("password-guessable", why = why));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("short", "u").unwrap_err().to_string().contains("12"));
        for weak in
            ["password1234", "Password1234!", "qwertyuiop123", "shadow123456", "trenggalek2026", "rahasiaku123!"]
        {
            assert!(check_policy(weak, "budi").unwrap_err().to_string().contains("guess"), "{weak}");
        }
        assert!(check_policy("aaaaaaaaaaaaaa", "u").unwrap_err().to_string().contains("repeated"));
        assert!(check_policy("budi.santoso-rahasia", "budi.santoso").unwrap_err().to_string().contains("username"));
        for strong in ["jembatan gantung di Trenggalek", "correct horse battery staple", "sambal terasi pedas sekali"] {
            assert!(check_policy(strong, "budi").is_ok(), "{strong}");
        }
    }

    #[test]
    fn hash_and_verify() {
        let h = hash_blocking("kopi tubruk pagi hari").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking(&h, "kopi tubruk pagi hari"));
        assert!(!verify_blocking(&h, "kopi tubruk sore hari"));
        assert!(!verify_blocking("not a hash", "x"));
    }
}
