import { decodeSafetensors, encodeSafetensors, type Tensor } from '../checkpoint/safetensors';
import type { Model } from './model';

/** A weights file that does not fit the model; the message names the tensor. */
export class WeightsError extends Error {
  override name = 'WeightsError';
}

/** Flat parameters as safetensors: one float32 tensor per parameter, named and shaped as the model's. */
export function encodeWeights(model: Model, flat: Float32Array): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  model.params.forEach((p, k) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    tensors[p.name] = {
      dtype: 'F32',
      shape: p.shape,
      data: flat.subarray(model.offsets[k]!, model.offsets[k]! + size),
    };
  });
  return encodeSafetensors(tensors, { model: model.name });
}

/** Read weights written by {@link encodeWeights} (or by any tool using the same names and shapes). */
export function decodeWeights(model: Model, bytes: Uint8Array, source: string): Float32Array {
  const { tensors } = decodeSafetensors(bytes, source);
  const flat = new Float32Array(model.paramCount);
  model.params.forEach((p, k) => {
    const t = tensors[p.name];
    if (!t)
      throw new WeightsError(
        `${source}: tensor '${p.name}' is missing (model ${model.name} needs ${model.params.length} tensors; ` +
          'write a template with --init-seed 0 --save-weights FILE)',
      );
    if (t.dtype !== 'F32') throw new WeightsError(`${source}: tensor '${p.name}' is ${t.dtype}, expected F32`);
    if (t.shape.join(',') !== p.shape.join(','))
      throw new WeightsError(`${source}: tensor '${p.name}' has shape [${t.shape}], expected [${p.shape}]`);
    flat.set(t.data as Float32Array, model.offsets[k]!);
  });
  const extra = Object.keys(tensors).filter((n) => !model.params.some((p) => p.name === n));
  if (extra.length) throw new WeightsError(`${source}: tensor '${extra[0]}' is not a parameter of ${model.name}`);
  return flat;
}
