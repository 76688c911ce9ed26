// Request ids are "req_" + a ULID: 48-bit millisecond time + 80 random bits in Crockford base32, so ids sort by
// arrival time in logs.
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function newRequestId(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) random += CROCKFORD[byte & 31];
  return `req_${time}${random}`;
}
