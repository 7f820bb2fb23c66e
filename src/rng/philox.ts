/**
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011, as in Random123, JAX and
 * PyTorch's CUDA generator). Every draw is a pure function of (seed, stream, step, index), so
 * replaying any range of iterations from a checkpoint reproduces the same numbers, bit for bit,
 * with no generator state to save beyond the step counter.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32s, exact in double arithmetic. */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff,
    ah = a >>> 16,
    bl = b & 0xffff,
    bh = b >>> 16;
  const ll = al * bl,
    lh = al * bh,
    hl = ah * bl,
    hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: 4 uint32 counter words and 2 key words to 4 uint32 outputs. */
export function philox4x32(counter: readonly number[], key: readonly number[], out = new Uint32Array(4)): Uint32Array {
  let c0 = counter[0]! >>> 0,
    c1 = counter[1]! >>> 0,
    c2 = counter[2]! >>> 0,
    c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0,
    k1 = key[1]! >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0),
      lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2),
      lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** A stable 32-bit id for a named stream (FNV-1a), so stream names can be read in configs. */
export function streamId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/** Uniform in the open interval (0, 1) with 53 random bits from two uint32 words. */
function uniform53(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6) + 0.5) / TWO_53;
}

/**
 * A keyed view of the generator: `seed` is the key, `stream` separates independent uses
 * (initialization, batch order, noise...), `step` and `index` address one draw.
 */
export class CounterRng {
  private readonly key: [number, number];
  private readonly stream: number;
  private readonly block = new Uint32Array(4);

  constructor(seed: number, stream: string | number) {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    this.key = [(seed % TWO_32) >>> 0, Math.floor(seed / TWO_32) >>> 0];
    this.stream = typeof stream === 'string' ? streamId(stream) : stream >>> 0;
  }

  /** Four raw uint32 words for (step, index). */
  words(step: number, index = 0): Uint32Array {
    return philox4x32(
      [index >>> 0, (step % TWO_32) >>> 0, Math.floor(step / TWO_32) >>> 0, this.stream],
      this.key,
      this.block,
    );
  }

  /** Two independent standard normals for (step, index), by Box-Muller on 53-bit uniforms. */
  normalPair(step: number, index = 0): [number, number] {
    const w = this.words(step, index);
    const u1 = uniform53(w[0]!, w[1]!);
    const u2 = uniform53(w[2]!, w[3]!);
    const r = Math.sqrt(-2 * Math.log(u1));
    const t = 2 * Math.PI * u2;
    return [r * Math.cos(t), r * Math.sin(t)];
  }

  /** One standard normal for (step, index). */
  normal(step: number, index = 0): number {
    return this.normalPair(step, index)[0];
  }

  /** Uniform in (0, 1) for (step, index). */
  uniform(step: number, index = 0): number {
    const w = this.words(step, index);
    return uniform53(w[0]!, w[1]!);
  }
}
