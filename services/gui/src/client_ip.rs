//! The client's address, which rate limits count by: the TCP peer's, unless the peer is
//! one of `TRUSTED_PROXIES` (a reverse proxy in front of the GUI), in which case the
//! last address of `X-Forwarded-For` that is not a trusted proxy. A header sent by
//! anyone else is ignored: a client cannot pick the address it is counted under.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::web::PageError;
use crate::AppState;

/// An address or a network (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s.trim().split_once('/').unwrap_or((s.trim(), ""));
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix must be 0 to {max}"))?
        };
        Ok(Self { addr, prefix })
    }
}

/// Parses `TRUSTED_PROXIES`: comma-separated addresses or networks.
pub fn parse_networks(list: &str) -> Result<Vec<Network>, String> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// The address a request is counted under (see the module).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[Network]) -> IpAddr {
    let trusts = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !trusts(peer) {
        return peer;
    }
    // Each proxy appends the address it got the request from: read from the right,
    // past the trusted ones.
    forwarded_for
        .into_iter()
        .flat_map(|h| h.rsplit(','))
        .map_while(|s| s.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusts(*ip))
        .unwrap_or(peer)
}

/// The request's client address, as rate limits count it.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| PageError::Internal("no peer address".into()))?;
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(Self(client_ip(
            peer.ip(),
            forwarded,
            &state.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let trusted = parse_networks("10.0.0.0/8, 192.168.1.5, fd00::/8").unwrap();
        let header = Some("203.0.113.9, 10.1.2.3");
        // From a client: the header is the client's own say, ignored.
        assert_eq!(
            client_ip(ip("198.51.100.7"), header, &trusted),
            ip("198.51.100.7")
        );
        // From a trusted proxy: the last untrusted address.
        assert_eq!(
            client_ip(ip("10.9.9.9"), header, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("192.168.1.5"), header, &trusted),
            ip("203.0.113.9")
        );
        // A spoofed address on the left is not reached when a real one is on its right.
        assert_eq!(
            client_ip(ip("10.9.9.9"), Some("1.1.1.1, 203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(client_ip(ip("10.9.9.9"), None, &trusted), ip("10.9.9.9"));
        assert_eq!(
            client_ip(ip("10.9.9.9"), Some("junk"), &trusted),
            ip("10.9.9.9")
        );
        assert_eq!(
            client_ip(ip("fd00::1"), Some("2001:db8::7"), &trusted),
            ip("2001:db8::7")
        );
        assert!(parse_networks("10.0.0.0/33").is_err());
        assert!(parse_networks("not an ip").is_err());
        assert_eq!(parse_networks("").unwrap(), []);
        let all = parse_networks("0.0.0.0/0").unwrap();
        assert!(all[0].contains(ip("8.8.8.8")));
    }
}
