//! Lab helpers for the ISP stage (echo service, NAT on the router, HTTP servers).
