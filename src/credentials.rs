//! Secrets: the API token format, random generation from the OS, argon2id hashing and verification, the
//! admin password policy (length, and zxcvbn's estimate of how guessable it is) and the rules for admin
//! names (UTS #39: no invisible or direction-changing characters, one script, look-alikes detected).
//!
//! A token reads `scimbox_<id>_<secret>`: `<id>` (16 hex digits) names the stored row and is safe to show
//! and log; `<secret>` (64 hex digits, 256 bits from the OS RNG) is shown once and only its argon2id PHC
//! hash is stored. Nothing here does IO or keeps state: the cache of verified tokens lives with the
//! server (`http/auth.rs`), which also keeps argon2 off the async executor.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use sha2::{Digest, Sha256};

/// Every token starts with this, so that secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "scimbox_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// The shortest admin password accepted.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// The longest admin password accepted, in bytes: argon2 hashes anything, but nobody types more and an
/// unbounded input is a cheap way to burn CPU.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Scope {
    /// Provisioning: the `/scim/v2` endpoints an identity provider calls.
    Scim,
    /// The platform API (`/api/v1`): access decisions for the platform's other services.
    Platform,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Scim => "scim",
            Scope::Platform => "platform",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "scim" => Some(Scope::Scim),
            "platform" => Some(Scope::Platform),
            _ => None,
        }
    }
}

/// A freshly generated token: the full text (shown once) and its parts.
#[derive(Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: String,
    pub secret: String,
}

impl NewToken {
    /// Draws a new id and secret from the operating system's RNG.
    pub fn generate() -> Result<NewToken, CredentialError> {
        Ok(NewToken { id: random_hex(ID_BYTES)?, secret: random_hex(SECRET_BYTES)? })
    }

    /// The token as the client sends it.
    pub fn text(&self) -> String {
        format!("{TOKEN_PREFIX}{}_{}", self.id, self.secret)
    }
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

/// The parts of a presented token, borrowed from the request.
#[derive(PartialEq, Eq)]
pub struct PresentedToken<'a> {
    pub id: &'a str,
    pub secret: &'a str,
}

impl std::fmt::Debug for PresentedToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedToken").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

/// Why a secret could not be made, hashed or accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("the token is not of the form scimbox_<id>_<secret>")]
    MalformedToken,
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("argon2 failed: {0}")]
    Hash(String),
    #[error("the password must be at least {PASSWORD_MIN_CHARS} characters long")]
    PasswordTooShort,
    #[error("the password must be at most {PASSWORD_MAX_BYTES} bytes long")]
    PasswordTooLong,
    #[error("the password must not be the user name")]
    PasswordIsUsername,
    #[error("the password must not be one character repeated")]
    PasswordRepeated,
    #[error("the password is too easy to guess{0}; a few uncommon words or a longer phrase will do")]
    PasswordWeak(String),
    #[error("the user name must be 1 to {ADMIN_NAME_MAX_CHARS} characters, with nothing invisible")]
    NameShape,
    #[error(
        "the user name may not contain invisible or direction-changing characters, nor mix scripts \
         (such as a Cyrillic letter among Latin ones)"
    )]
    NameDeceptive,
}

/// The longest admin user name.
pub const ADMIN_NAME_MAX_CHARS: usize = 64;
/// The least zxcvbn score (0 to 4) an admin password needs: 3 is "safely unguessable" (about 10^8
/// guesses and more), which argon2 turns into years offline.
const PASSWORD_MIN_SCORE: u8 = 3;

/// Splits a presented token into id and secret, checking the exact shape: a malformed token is refused
/// before any lookup or hashing.
pub fn parse_token(text: &str) -> Result<PresentedToken<'_>, CredentialError> {
    let rest = text.strip_prefix(TOKEN_PREFIX).ok_or(CredentialError::MalformedToken)?;
    let (id, secret) = rest.split_once('_').ok_or(CredentialError::MalformedToken)?;
    let hex_of = |s: &str, bytes: usize| {
        s.len() == bytes * 2 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    if !hex_of(id, ID_BYTES) || !hex_of(secret, SECRET_BYTES) {
        return Err(CredentialError::MalformedToken);
    }
    Ok(PresentedToken { id, secret })
}

/// Whether `id` has the shape of a token id (for CLI arguments and URLs).
pub fn is_token_id(id: &str) -> bool {
    id.len() == ID_BYTES * 2 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The argon2id PHC string of `secret`, with a fresh salt and the crate's default parameters
/// (m = 19 MiB, t = 2, p = 1: the OWASP minimum, about 13 ms on this class of machine).
pub fn hash_secret(secret: &str) -> Result<String, CredentialError> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| CredentialError::Hash(e.to_string()))
}

/// Whether `secret` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default().verify_password(secret.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// SHA-256 of a whole presented token: the key under which a successful argon2 verification is remembered,
/// so that the secret itself is never kept in memory longer than a request.
pub fn token_digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Checks an admin password against the policy: long enough to resist guessing, bounded, and not
/// trivially derived from the user name.
pub fn check_password(username: &str, password: &str) -> Result<(), CredentialError> {
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(CredentialError::PasswordTooLong);
    }
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(CredentialError::PasswordTooShort);
    }
    if password.eq_ignore_ascii_case(username) || password.to_lowercase() == username.to_lowercase() {
        return Err(CredentialError::PasswordIsUsername);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(CredentialError::PasswordRepeated);
    }
    let estimate = zxcvbn::zxcvbn(password, &[username]);
    if u8::from(estimate.score()) < PASSWORD_MIN_SCORE {
        let warning = estimate.feedback().and_then(|feedback| feedback.warning()).map(|w| format!(" ({w})"));
        return Err(CredentialError::PasswordWeak(warning.unwrap_or_default()));
    }
    Ok(())
}

/// Checks an admin user name and returns it trimmed: 1 to 64 characters; printable ASCII, or letters and
/// marks that UTS #39 allows in identifiers (so no bidi controls, zero-width or other invisible
/// characters); one script (no Cyrillic `а` in a Latin `alice`).
pub fn check_admin_name(text: &str) -> Result<String, CredentialError> {
    use unicode_security::{GeneralSecurityProfile, MixedScript};
    let name = text.trim();
    let length = name.chars().count();
    if length == 0 || length > ADMIN_NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(CredentialError::NameShape);
    }
    let allowed = |c: char| matches!(c, ' '..='~') || c.identifier_allowed();
    if !name.chars().all(allowed) || !name.is_single_script() {
        return Err(CredentialError::NameDeceptive);
    }
    Ok(name.to_owned())
}

/// Whether two admin names would read the same to a person (UTS #39 confusable skeletons, in any case):
/// `alice` and `аlice`, `paypal` and `paypaI`.
pub fn names_look_alike(a: &str, b: &str) -> bool {
    use unicode_security::confusable_detection::skeleton;
    // Folded before the skeleton, `ALICE` matches `alice`; after it, `paypaI` (a capital i) matches
    // `paypal`. Either is a look-alike.
    let folded_first = |name: &str| skeleton(&name.to_lowercase()).collect::<String>();
    let folded_after = |name: &str| skeleton(name).flat_map(char::to_lowercase).collect::<String>();
    folded_first(a) == folded_first(b) || folded_after(a) == folded_after(b)
}

/// A random value of `bytes` bytes from the OS, as lowercase hex: for session ids and setup codes too.
pub fn random_hex(bytes: usize) -> Result<String, CredentialError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| CredentialError::Random(e.to_string()))?;
    Ok(hex(&buf))
}

/// Lowercase hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // A digit per nibble from a table (a `write!` per byte was 8,000 instructions per audit record).
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]]).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(text: &str, ok: bool) {
        assert_eq!(parse_token(text).is_ok(), ok, "{text:?}");
    }

    #[test]
    fn generated_tokens_parse_back_to_their_parts() {
        let token = NewToken::generate().unwrap();
        let text = token.text();
        let parsed = parse_token(&text).unwrap();
        assert_eq!(parsed.id, token.id);
        assert_eq!(parsed.secret, token.secret);
        assert_eq!(text.len(), TOKEN_PREFIX.len() + 16 + 1 + 64);
        assert_ne!(NewToken::generate().unwrap(), token, "two draws must differ");
    }

    #[test]
    fn token_shape_is_checked_exactly() {
        let id = "0123456789abcdef";
        let secret = "ab".repeat(32);
        check_parse(&format!("scimbox_{id}_{secret}"), true);
        check_parse(&format!("SCIMBOX_{id}_{secret}"), false);
        check_parse(&format!("scimbox_{id}{secret}"), false);
        check_parse(&format!("scimbox_{id}_{}", &secret[1..]), false);
        check_parse(&format!("scimbox_{id}_{secret}0"), false);
        check_parse(&format!("scimbox_{}_{secret}", id.to_uppercase()), false);
        check_parse(&format!("scimbox_{id}_{}", secret.to_uppercase()), false);
        check_parse(&format!("scimbox_{id}_{}g", &secret[1..]), false);
        check_parse(&format!("scimbox__{secret}"), false);
        check_parse("", false);
        check_parse("scimbox_", false);
        check_parse("Bearer x", false);
    }

    #[test]
    fn token_ids_are_recognised() {
        assert!(is_token_id("0123456789abcdef"));
        assert!(!is_token_id("0123456789abcde"));
        assert!(!is_token_id("0123456789ABCDEF"));
        assert!(!is_token_id("0123456789abcdeg"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let token = NewToken::generate().unwrap();
        assert!(!format!("{token:?}").contains(&token.secret));
        let text = token.text();
        let presented = parse_token(&text).unwrap();
        assert!(!format!("{presented:?}").contains(&token.secret));
    }

    #[test]
    fn hashes_verify_only_their_own_secret() {
        let hash = hash_secret("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify_secret("correct horse", &hash));
        assert!(!verify_secret("correct horsf", &hash));
        assert!(!verify_secret("correct horse", "not a phc string"));
        assert_ne!(hash_secret("correct horse").unwrap(), hash, "each hash has its own salt");
    }

    #[test]
    fn digests_are_sha256() {
        assert_eq!(hex(&token_digest("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex(&[0x00, 0x0f, 0xf0, 0xff, 0x5a, 0xa5]), "000ff0ff5aa5");
        assert_eq!(hex(&[]), "");
    }

    fn check_policy(username: &str, password: &str, expected: Result<(), CredentialError>) {
        assert_eq!(check_password(username, password), expected, "{password:?}");
    }

    #[test]
    fn password_policy() {
        check_policy("alice", "correct horse battery", Ok(()));
        check_policy("alice", "plum ferry 47 kiosk", Ok(()));
        check_policy("alice", "eleven char", Err(CredentialError::PasswordTooShort));
        check_policy("alice", "ééééééééééé", Err(CredentialError::PasswordTooShort));
        check_policy("alice", &"x".repeat(1025), Err(CredentialError::PasswordTooLong));
        check_policy("administrator", "Administrator", Err(CredentialError::PasswordIsUsername));
        check_policy("alice", "aaaaaaaaaaaaaaaa", Err(CredentialError::PasswordRepeated));
        for weak in ["password1234", "qwertyuiopas", "alice1234567", "123456789012", "Password2024!"] {
            let refused = check_password("alice", weak);
            assert!(matches!(refused, Err(CredentialError::PasswordWeak(_))), "{weak}: {refused:?}");
        }
    }

    #[test]
    fn admin_names() {
        assert_eq!(check_admin_name("  alice "), Ok("alice".to_owned()));
        assert_eq!(check_admin_name("alice.smith@example.com"), Ok("alice.smith@example.com".to_owned()));
        assert_eq!(check_admin_name("José"), Ok("José".to_owned()));
        assert_eq!(check_admin_name("Дмитрий"), Ok("Дмитрий".to_owned()));
        assert_eq!(check_admin_name(""), Err(CredentialError::NameShape));
        assert_eq!(check_admin_name(&"x".repeat(65)), Err(CredentialError::NameShape));
        assert_eq!(check_admin_name("a\u{7}b"), Err(CredentialError::NameShape));
        for deceptive in ["\u{430}lice", "ali\u{200b}ce", "alice\u{202e}", "al\u{200d}ice", "\u{2066}alice"] {
            assert_eq!(check_admin_name(deceptive), Err(CredentialError::NameDeceptive), "{deceptive:?}");
        }
        assert!(names_look_alike("alice", "\u{430}lice"));
        assert!(names_look_alike("Alice", "alice"));
        assert!(names_look_alike("paypal", "paypaI"));
        assert!(!names_look_alike("alice", "alicia"));
    }
}
