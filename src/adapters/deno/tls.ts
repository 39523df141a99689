/** The TLS capabilities of this adapter (see Capabilities). TLS lands in its own change. */
export const tlsCapabilities = {
  tls: false,
  startTls: false,
  serverStartTls: false,
  mutualTls: false,
  alpn: false,
} as const;
