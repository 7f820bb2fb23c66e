import { decodeSafetensors } from '../checkpoint/safetensors';
import { checkLabels, DataFormatError, type Dataset } from './dataset';
import { flatten, grayscale, resize } from './preprocess';

/**
 * A data set from safetensors: `x` float32 [n, ...sample shape] and `y` int32 [n] class labels.
 * Errors name the tensor and what is wrong with it.
 */
export function decodeTensorData(bytes: Uint8Array, source: string, classes: number): Dataset {
  const { tensors } = decodeSafetensors(bytes, source);
  const x = tensors.x,
    y = tensors.y;
  if (!x) throw new DataFormatError(`${source}: tensor 'x' is missing (expected float32 [n, features])`);
  if (!y) throw new DataFormatError(`${source}: tensor 'y' is missing (expected int32 [n] labels)`);
  if (x.dtype !== 'F32') throw new DataFormatError(`${source}: tensor 'x' is ${x.dtype}, expected F32`);
  if (y.dtype !== 'I32') throw new DataFormatError(`${source}: tensor 'y' is ${y.dtype}, expected I32`);
  if (y.shape.length !== 1) throw new DataFormatError(`${source}: tensor 'y' has shape [${y.shape}], expected [n]`);
  if (x.shape.length < 2 || x.shape[0] !== y.shape[0])
    throw new DataFormatError(
      `${source}: tensor 'x' has shape [${x.shape}], expected [${y.shape[0]}, ...] to match 'y'`,
    );
  checkLabels(y.data, classes, `${source}: tensor 'y'`);
  return { name: source, shape: x.shape.slice(1), classes, x: x.data as Float32Array, y: y.data as Int32Array };
}

/**
 * Adapt an image data set to a model's input: the same shape passes; flat MLP inputs of k² (or
 * 3k²) features get grey scale as needed, an area resize to k×k and flattening (MNIST to
 * 196 = 14×14 for the 196-30-10 MLP, CIFAR to 49 = 7×7 grey for fig5's 49-70-10).
 */
export function fitToModel(d: Dataset, inputShape: number[]): Dataset {
  if (d.shape.join() === inputShape.join()) return d;
  if (inputShape.length === 1 && d.shape.length === 3) {
    const features = inputShape[0]!;
    let img = d;
    if (d.shape[2] === 3 && Number.isInteger(Math.sqrt(features))) img = grayscale(d);
    const side = Math.sqrt(features / img.shape[2]!);
    if (Number.isInteger(side)) return flatten(resize(img, side, side));
  }
  if (inputShape.length === 3 && d.shape.length === 3) {
    // Images to images: area resize, then grey scale or grey replicated to three channels.
    const [h, w, c] = inputShape as [number, number, number];
    let img = d.shape[0] === h && d.shape[1] === w ? d : resize(d, h, w);
    if (img.shape[2] === 3 && c === 1) img = grayscale(img);
    else if (img.shape[2] === 1 && c === 3)
      img = {
        ...img,
        shape: [h, w, 3],
        x: Float32Array.from({ length: img.x.length * 3 }, (_, i) => img.x[Math.floor(i / 3)]!),
      };
    if (img.shape.join() === inputShape.join()) return img;
  }
  throw new DataFormatError(`${d.name}: samples of shape [${d.shape}] do not fit a model input of [${inputShape}]`);
}
