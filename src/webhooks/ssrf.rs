//! The SSRF guard. Webhook URLs are supplied by admins but fetched by the server, inside the
//! network: without a guard, an endpoint could point at the cloud metadata service or an
//! internal admin port. Checked at registration and again at send time after DNS resolution
//! (a name can be re-pointed after registration); the HTTP client's resolver enforces the same
//! rule on the addresses it actually connects to, so a rebinding name cannot slip through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use reqwest::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a valid absolute URL")]
    Unparseable,
    #[error("scheme {0:?} is not allowed; use http or https")]
    Scheme(String),
    #[error("the URL must not carry credentials")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error("{host} resolves to {ip}, an internal address (loopback, private, link-local, CGNAT or metadata)")]
    Internal { host: String, ip: IpAddr },
    #[error("{host} does not resolve: {reason}")]
    Unresolvable { host: String, reason: String },
}

/// Which addresses webhooks may reach: public ones, plus an explicit allow-list.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<IpNet>,
}

impl Guard {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|net| net.contains(&ip)) || is_public(ip)
    }

    /// Syntax: an absolute http(s) URL with a host and no credentials.
    pub fn parse(&self, raw: &str) -> Result<Url, Refusal> {
        let url = Url::parse(raw).map_err(|_| Refusal::Unparseable)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Refusal::NoHost);
        }
        Ok(url)
    }

    /// Syntax, then every address the host resolves to.
    pub async fn check(&self, raw: &str) -> Result<Url, Refusal> {
        let url = self.parse(raw)?;
        let host = url.host_str().unwrap_or_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => resolve(bare).await?.into_iter().map(|a| a.ip()).collect(),
        };
        for ip in addrs {
            if !self.permits(ip) {
                return Err(Refusal::Internal {
                    host: host.to_owned(),
                    ip,
                });
            }
        }
        Ok(url)
    }
}

async fn resolve(host: &str) -> Result<Vec<SocketAddr>, Refusal> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| Refusal::Unresolvable {
            host: host.to_owned(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Refusal::Unresolvable {
            host: host.to_owned(),
            reason: "no addresses".into(),
        });
    }
    Ok(addrs)
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let o = v6.octets();
                return is_public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::from([0u8; 16]))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, including the metadata service 169.254.169.254
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

/// The HTTP client's resolver: names resolving to any internal address are refused at connect time.
pub struct GuardedResolver(pub Guard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve(&host).await?;
            if let Some(bad) = addrs.iter().find(|a| !guard.permits(a.ip())) {
                return Err(Box::new(Refusal::Internal { host, ip: bad.ip() }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_addresses_and_odd_schemes_are_refused() {
        let guard = Guard::default();
        for url in [
            "http://10.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://127.0.0.1/",
            "http://192.168.1.10/",
            "http://172.16.0.5/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://0.0.0.0/",
            "http://localhost/",
        ] {
            assert!(matches!(guard.check(url).await, Err(Refusal::Internal { .. })), "{url}");
        }
        assert_eq!(
            guard.check("file:///etc/passwd").await,
            Err(Refusal::Scheme("file".into()))
        );
        assert_eq!(guard.check("gopher://x/").await, Err(Refusal::Scheme("gopher".into())));
        assert_eq!(guard.check("http://u:p@8.8.8.8/").await, Err(Refusal::Credentials));
        assert!(guard.check("https://8.8.8.8/hook").await.is_ok());
        assert!(guard.check("https://[2606:4700::1111]/").await.is_ok());
    }

    #[tokio::test]
    async fn the_allow_list_opens_named_ranges_only() {
        let guard = Guard::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(guard.check("http://127.0.0.1:9999/hook").await.is_ok());
        assert!(guard.check("http://10.0.0.1/").await.is_err());
        assert!(guard.check("file:///etc/passwd").await.is_err());
    }
}
