export interface InboundRequest {
  method: string;
  /** Full URL as the sender addressed it: scheme://host[:port]/path?query. */
  url: string;
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  nowMs: number;
}

export interface VerificationConfig {
  type: string;
  secret?: string;
  secrets?: string[];
  toleranceSeconds?: number;
  [field: string]: unknown;
}

export interface HandshakeResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export type VerifyOutcome =
  | { ok: true; handshake?: HandshakeResponse } // handshake: Hookyard answers this itself (Zoom url_validation, Polar PING)
  | { ok: false; reason: string };

export interface VerificationPreset {
  readonly type: string;
  /** Checks the type-specific fields when a source is created/updated; returns a human message naming the bad field, or undefined when valid. Must require a secret where the scheme needs one. */
  validate(config: VerificationConfig): string | undefined;
  verify(request: InboundRequest, config: VerificationConfig): VerifyOutcome;
  /** The provider's delivery id, used for dedup by default; undefined when the scheme has none or it is absent. */
  deliveryId?(request: InboundRequest): string | undefined;
}
