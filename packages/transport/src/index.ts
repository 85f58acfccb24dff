export { type Challenge, parseChallenges } from "./challenge.js";
export { type Clock, systemClock } from "./clock.js";
export { type BodySink, type DrainableBody, isDrainable } from "./direct/body.js";
export type { ProxyOptions, TlsOptions } from "./dispatcher.js";
export {
  isKnownRegistryErrorCode,
  KNOWN_REGISTRY_ERROR_CODES,
  type KnownRegistryErrorCode,
  type RegistryDiagnostic,
  RegistryError,
  type RegistryErrorCode,
  TokenExchangeError,
  TRANSPORT_ERROR_CODES,
  TransportError,
  type TransportErrorCode,
} from "./errors.js";
export type { HostLimits } from "./host-limiter.js";
export { inspectToken, type TokenInfo } from "./jwt.js";
export { type Link, nextLink, parseLinkHeader } from "./link-header.js";
export type { PingResult, RegistryInput, RegistryLike } from "./ping.js";
export { parseRateLimit, type RateLimit } from "./rate-limit.js";
export { redactHeaders, redactUrl } from "./redact.js";
export type { BodySource, RequestBody } from "./request-body.js";
export type { ReadBodyOptions, TransportResponse } from "./response.js";
export {
  DEFAULT_RETRY_STATUSES,
  defaultRetryPolicy,
  parseRetryAfter,
  type RetryPolicy,
  type RetryPolicyOptions,
} from "./retry-policy.js";
export type { ResponseInfo } from "./send.js";
export type { RequestOptions, Session } from "./session.js";
export type { TokenGrant, TokenResponse } from "./token-exchange.js";
export {
  createTransport,
  type ExchangeTokenOptions,
  isSettableHeader,
  type PingOptions,
  type SessionOptions,
  type Transport,
  type TransportOptions,
} from "./transport.js";
export { VERSION } from "./version.js";
