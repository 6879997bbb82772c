//! [`ClientAddress`]: who a request is from, as far as per-client limits go.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// The network a request came from: an IPv4 address, or the /64 of an IPv6
/// one. An IPv6 subscriber is handed a whole /64 (2^64 addresses), so
/// counting single IPv6 addresses would give one client endless budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
    /// `raw` as an IP address (API Gateway's `sourceIp`, which has no port).
    pub fn parse(raw: &str) -> Option<Self> {
        raw.trim().parse::<IpAddr>().ok().map(Self::from_ip)
    }

    /// CloudFront's `CloudFront-Viewer-Address`: the address and the source
    /// port after the last colon, IPv6 unbracketed (`2001:db8::1:443`).
    pub fn parse_with_port(raw: &str) -> Option<Self> {
        let (ip, port) = raw.trim().rsplit_once(':')?;
        port.parse::<u16>().ok()?;
        let ip = ip
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .unwrap_or(ip);
        ip.parse::<IpAddr>().ok().map(Self::from_ip)
    }

    fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let network = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(network)))
                }
            },
        }
    }
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_address_is_its_own_client() {
        let a = ClientAddress::parse("198.51.100.10").unwrap();
        assert_eq!(a.to_string(), "198.51.100.10");
        assert_ne!(a, ClientAddress::parse("198.51.100.11").unwrap());
    }

    #[test]
    fn every_address_of_an_ipv6_64_is_one_client() {
        let a = ClientAddress::parse("2001:db8:1:2:aaaa::1").unwrap();
        let b = ClientAddress::parse("2001:db8:1:2:ffff:ffff:ffff:ffff").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_ne!(a, ClientAddress::parse("2001:db8:1:3::1").unwrap());
    }

    #[test]
    fn cloudfront_viewer_addresses_drop_their_port() {
        let v4 = ClientAddress::parse_with_port("198.51.100.10:46532").unwrap();
        assert_eq!(v4, ClientAddress::parse("198.51.100.10").unwrap());
        let v6 = ClientAddress::parse_with_port("2001:db8:1:2::1:443").unwrap();
        assert_eq!(v6, ClientAddress::parse("2001:db8:1:2::").unwrap());
        let bracketed = ClientAddress::parse_with_port("[2001:db8:1:2::1]:443").unwrap();
        assert_eq!(bracketed, v6);
    }

    #[test]
    fn a_mapped_ipv4_address_is_the_ipv4_client() {
        assert_eq!(
            ClientAddress::parse("::ffff:198.51.100.10").unwrap(),
            ClientAddress::parse("198.51.100.10").unwrap()
        );
    }

    #[test]
    fn garbage_is_no_address() {
        for raw in [
            "",
            "nonsense",
            "198.51.100.10",
            "1.2.3.4:port",
            "300.1.1.1:80",
        ] {
            assert_eq!(ClientAddress::parse_with_port(raw), None, "{raw}");
        }
        assert_eq!(ClientAddress::parse("1.2.3.4:80"), None);
    }
}
