import type { VerificationPreset } from './preset.js';
import { basicPreset } from './basic.js';
import { bearerPreset } from './bearer.js';
import { githubPreset } from './github.js';
import { hmacPreset } from './hmac.js';
import { intercomPreset } from './intercom.js';
import { linearPreset } from './linear.js';
import { nonePreset } from './none.js';
import { paddlePreset } from './paddle.js';
import { polarPreset } from './polar.js';
import { shopifyPreset } from './shopify.js';
import { slackPreset } from './slack.js';
import { squarePreset } from './square.js';
import { standardWebhooksPreset } from './standard-webhooks.js';
import { stripePreset } from './stripe.js';
import { twilioPreset } from './twilio.js';
import { zoomPreset } from './zoom.js';

export type {
  HandshakeResponse,
  InboundRequest,
  VerificationConfig,
  VerificationPreset,
  VerifyOutcome,
} from './preset.js';

const PRESETS: ReadonlyMap<string, VerificationPreset> = new Map(
  [
    githubPreset,
    stripePreset,
    shopifyPreset,
    slackPreset,
    twilioPreset,
    standardWebhooksPreset,
    polarPreset,
    zoomPreset,
    paddlePreset,
    squarePreset,
    linearPreset,
    intercomPreset,
    hmacPreset,
    basicPreset,
    bearerPreset,
    nonePreset,
  ].map((preset) => [preset.type, preset]),
);

export const VERIFICATION_TYPES: readonly string[] = Object.freeze([...PRESETS.keys()]);

/** A Map, not an object lookup, so `__proto__` or `constructor` is never a type. */
export function presetFor(type: string): VerificationPreset | undefined {
  return PRESETS.get(type);
}
