import { bodyHmacPreset } from './hmac.js';

export const intercomPreset = bodyHmacPreset('intercom', {
  header: 'X-Hub-Signature',
  prefix: 'sha1=',
  algorithm: 'sha1',
  encoding: 'hex',
});
