/**
 * Per-endpoint limits held by one worker: a cap on concurrent attempts (so a slow endpoint cannot take every slot),
 * and the endpoints told to wait for their shared rate-limit bucket (which lives in the database, see
 * Store.takeRateTokens), so that claims skip them meanwhile.
 */
export class EndpointThrottle {
  private readonly inFlight = new Map<string, number>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly maxInFlightPerEndpoint: number) {}

  /** The most attempts to one endpoint at once. */
  get cap(): number {
    return this.maxInFlightPerEndpoint;
  }

  /** How many more attempts to this endpoint may start before it reaches its cap. */
  room(endpointId: string): number {
    return Math.max(0, this.maxInFlightPerEndpoint - (this.inFlight.get(endpointId) ?? 0));
  }

  /** True while the endpoint waits for a token of its rate limit. */
  blocked(endpointId: string, now: number): boolean {
    return (this.blockedUntil.get(endpointId) ?? 0) > now;
  }

  /** True when another attempt to this endpoint may start now (and it is counted). */
  tryStart(endpointId: string): boolean {
    if ((this.inFlight.get(endpointId) ?? 0) >= this.maxInFlightPerEndpoint) return false;
    this.inFlight.set(endpointId, (this.inFlight.get(endpointId) ?? 0) + 1);
    return true;
  }

  finish(endpointId: string): void {
    const count = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (count <= 0) this.inFlight.delete(endpointId);
    else this.inFlight.set(endpointId, count);
  }

  /** The endpoint's rate limit has no token until `until`. */
  block(endpointId: string, until: number): void {
    this.blockedUntil.set(endpointId, until);
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
