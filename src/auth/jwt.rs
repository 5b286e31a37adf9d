//! JWT verification with the algorithm pinned by configuration, and development token minting.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::{JwtAlgorithm, JwtArgs};
use crate::db::DatabaseUrl;
use crate::domain::Role;

pub const MIN_SECRET_BYTES: usize = 32;
pub const MAX_LEEWAY_SECS: u64 = 60;
/// Appended to the configured audience for one-time web login links. A link token is therefore
/// refused as an API bearer token, and an API token is refused as a link.
pub const LOGIN_LINK_AUDIENCE_SUFFIX: &str = ":ui-login-link";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    /// Required: a token without an issue time, or issued later than it is used (beyond the
    /// leeway), is refused.
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Unique id of a login-link token: the key that makes the link one-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the HS256 secret is {0} bytes; it must be at least {MIN_SECRET_BYTES} bytes (set RECOURSE_JWT_SECRET or RECOURSE_JWT_SECRET_FILE)"
    )]
    SecretTooShort(usize),
    #[error(
        "no HS256 secret configured: set RECOURSE_JWT_SECRET or RECOURSE_JWT_SECRET_FILE (a development secret is generated only for SQLite)"
    )]
    NoSecret,
    #[error("{0} requires --jwt-public-key (RECOURSE_JWT_PUBLIC_KEY) with a PEM public key")]
    NoPublicKey(&'static str),
    #[error("--jwt-leeway is {0} s; at most {MAX_LEEWAY_SECS} s is allowed")]
    LeewayTooLarge(u64),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the development secret {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the key in {path} is not a valid PEM key for {alg}: {source}")]
    BadKey {
        path: PathBuf,
        alg: &'static str,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("the HS256 secret is not usable: {source}")]
    BadSecret {
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("minting {0} tokens needs --jwt-private-key (RECOURSE_JWT_PRIVATE_KEY)")]
    NoPrivateKey(&'static str),
    #[error("cannot sign the token: {0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

/// Verifies bearer tokens. Held in app data and used by the `Actor` extractor.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    link_validation: Validation,
}

/// Mints tokens for the CLI, demo mode and tests.
pub struct TokenMinter {
    key: EncodingKey,
    header: Header,
    issuer: String,
    audience: String,
}

pub struct JwtKeys {
    pub verifier: TokenVerifier,
    /// Present when the private half is known: always for HS256, for RS256/EdDSA only with a private key.
    pub minter: Option<TokenMinter>,
    /// Where a development secret was generated, to tell the operator.
    pub generated_secret_at: Option<PathBuf>,
}

impl JwtKeys {
    /// Resolves key material from configuration. For HS256 on SQLite without a configured
    /// secret, reads or creates `<database file>.jwt-secret` (mode 0600).
    pub fn load(args: &JwtArgs, database: &DatabaseUrl) -> Result<Self, KeyError> {
        if args.leeway_secs > MAX_LEEWAY_SECS {
            return Err(KeyError::LeewayTooLarge(args.leeway_secs));
        }
        let alg = match args.algorithm {
            JwtAlgorithm::Hs256 => Algorithm::HS256,
            JwtAlgorithm::Rs256 => Algorithm::RS256,
            JwtAlgorithm::EdDsa => Algorithm::EdDSA,
        };
        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.set_issuer(&[args.issuer.as_str()]);
        validation.set_audience(&[args.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = args.leeway_secs;
        let mut link_validation = validation.clone();
        link_validation.set_audience(&[format!("{}{LOGIN_LINK_AUDIENCE_SUFFIX}", args.audience)]);

        let mut generated_secret_at = None;
        let (decoding, encoding) = match args.algorithm {
            JwtAlgorithm::Hs256 => {
                let secret = match (&args.secret, &args.secret_file) {
                    (Some(s), _) => s.clone(),
                    (None, Some(path)) => SecretString::from(read_to_string(path)?.trim().to_owned()),
                    (None, None) => {
                        let path = database.sqlite_path().map(dev_secret_path).ok_or(KeyError::NoSecret)?;
                        let (secret, created) = read_or_create_dev_secret(&path)?;
                        if created {
                            generated_secret_at = Some(path);
                        }
                        secret
                    }
                };
                let bytes = secret.expose_secret().as_bytes();
                if bytes.len() < MIN_SECRET_BYTES {
                    return Err(KeyError::SecretTooShort(bytes.len()));
                }
                let invalid = |source| KeyError::BadSecret { source };
                (
                    DecodingKey::from_secret(bytes).map_err(invalid)?,
                    Some(EncodingKey::from_secret(bytes).map_err(invalid)?),
                )
            }
            JwtAlgorithm::Rs256 | JwtAlgorithm::EdDsa => {
                let name = if alg == Algorithm::RS256 { "RS256" } else { "EdDSA" };
                let path = args.public_key.as_ref().ok_or(KeyError::NoPublicKey(name))?;
                let pem = read_to_string(path)?;
                let bad_key = |source| KeyError::BadKey {
                    path: path.clone(),
                    alg: name,
                    source,
                };
                let decoding = if alg == Algorithm::RS256 {
                    DecodingKey::from_rsa_pem(pem.as_bytes())
                } else {
                    DecodingKey::from_ed_pem(pem.as_bytes())
                }
                .map_err(bad_key)?;
                let encoding = match &args.private_key {
                    None => None,
                    Some(path) => {
                        let pem = read_to_string(path)?;
                        let bad_key = |source| KeyError::BadKey {
                            path: path.clone(),
                            alg: name,
                            source,
                        };
                        Some(
                            if alg == Algorithm::RS256 {
                                EncodingKey::from_rsa_pem(pem.as_bytes())
                            } else {
                                EncodingKey::from_ed_pem(pem.as_bytes())
                            }
                            .map_err(bad_key)?,
                        )
                    }
                };
                (decoding, encoding)
            }
        };
        Ok(Self {
            verifier: TokenVerifier {
                key: decoding,
                validation,
                link_validation,
            },
            minter: encoding.map(|key| TokenMinter {
                key,
                header: Header::new(alg),
                issuer: args.issuer.clone(),
                audience: args.audience.clone(),
            }),
            generated_secret_at,
        })
    }
}

impl TokenVerifier {
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)?.claims;
        self.check_issued(claims)
    }

    /// jsonwebtoken checks `exp` and `nbf`, not `iat`: a token issued in the future is refused
    /// here, with the same leeway.
    fn check_issued(&self, claims: Claims) -> Result<Claims, jsonwebtoken::errors::Error> {
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
        if claims.iat > Utc::now().timestamp().saturating_add(leeway) {
            return Err(jsonwebtoken::errors::ErrorKind::ImmatureSignature.into());
        }
        Ok(claims)
    }

    /// Verifies a one-time login-link token (its own audience, and a `jti`). Whether the link
    /// was already used is for the caller to check against the database.
    pub fn verify_login_link(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let claims =
            self.check_issued(jsonwebtoken::decode::<Claims>(token, &self.key, &self.link_validation)?.claims)?;
        if claims.jti.as_deref().is_none_or(str::is_empty) {
            return Err(jsonwebtoken::errors::ErrorKind::MissingRequiredClaim("jti".into()).into());
        }
        Ok(claims)
    }
}

impl TokenMinter {
    pub fn mint(&self, role: Role, sub: &str, ttl: std::time::Duration) -> Result<String, KeyError> {
        self.sign(role, sub, ttl, self.audience.clone(), None)
    }

    /// Mints the token of a one-time web login link: `/ui/login/link?t=<token>`.
    pub fn mint_login_link(&self, role: Role, sub: &str, ttl: std::time::Duration) -> Result<String, KeyError> {
        let audience = format!("{}{LOGIN_LINK_AUDIENCE_SUFFIX}", self.audience);
        self.sign(role, sub, ttl, audience, Some(uuid::Uuid::new_v4().to_string()))
    }

    fn sign(
        &self,
        role: Role,
        sub: &str,
        ttl: std::time::Duration,
        aud: String,
        jti: Option<String>,
    ) -> Result<String, KeyError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            role,
            iss: self.issuer.clone(),
            aud,
            iat: now,
            nbf: now,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            jti,
        };
        jsonwebtoken::encode(&self.header, &claims, &self.key).map_err(KeyError::Sign)
    }
}

/// `./recourse.db` keeps its development secret in `./recourse.db.jwt-secret`.
pub fn dev_secret_path(database_file: &Path) -> PathBuf {
    let mut name = database_file.as_os_str().to_owned();
    name.push(".jwt-secret");
    PathBuf::from(name)
}

fn read_to_string(path: &Path) -> Result<String, KeyError> {
    fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_owned(),
        source,
    })
}

fn read_or_create_dev_secret(path: &Path) -> Result<(SecretString, bool), KeyError> {
    if path.exists() {
        return Ok((SecretString::from(read_to_string(path)?.trim().to_owned()), false));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let write_err = |source| KeyError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes()).map_err(write_err)?;
            Ok((SecretString::from(secret), true))
        }
        // Another process created it between our check and our create: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok((SecretString::from(read_to_string(path)?.trim().to_owned()), false))
        }
        Err(e) => Err(write_err(e)),
    }
}
