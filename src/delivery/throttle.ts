interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Per-endpoint limits held by one worker: a cap on concurrent attempts (so a slow endpoint cannot take every slot)
 * and an optional token bucket for `rateLimit` (attempts per second, bursts up to one second's worth).
 */
export class EndpointThrottle {
  private readonly inFlight = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  /** Endpoints waiting for a token, with when the next one arrives. */
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly maxInFlightPerEndpoint: number) {}

  /** 0 when an attempt may start now (and it is counted), otherwise the ms to wait. */
  tryStart(endpointId: string, rateLimit: number | null, now: number): number {
    if ((this.inFlight.get(endpointId) ?? 0) >= this.maxInFlightPerEndpoint) return 50;
    if (rateLimit !== null) {
      const bucket = this.buckets.get(endpointId) ?? { tokens: rateLimit, updatedAt: now };
      bucket.tokens = Math.min(rateLimit, bucket.tokens + ((now - bucket.updatedAt) * rateLimit) / 1000);
      bucket.updatedAt = now;
      this.buckets.set(endpointId, bucket);
      if (bucket.tokens < 1) {
        const wait = Math.ceil(((1 - bucket.tokens) * 1000) / rateLimit);
        this.blockedUntil.set(endpointId, now + wait);
        return wait;
      }
      bucket.tokens -= 1;
    }
    this.inFlight.set(endpointId, (this.inFlight.get(endpointId) ?? 0) + 1);
    return 0;
  }

  finish(endpointId: string): void {
    const count = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (count <= 0) this.inFlight.delete(endpointId);
    else this.inFlight.set(endpointId, count);
  }

  /** Endpoints that cannot take another attempt right now: claims skip them so they don't starve the others. */
  saturated(now: number): string[] {
    const out: string[] = [];
    for (const [id, count] of this.inFlight) if (count >= this.maxInFlightPerEndpoint) out.push(id);
    for (const [id, until] of this.blockedUntil) {
      if (until > now) out.push(id);
      else this.blockedUntil.delete(id);
    }
    return out;
  }
}
