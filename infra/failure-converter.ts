/**
 * The failure converter of encrypted deployments (`dataConverterFor` names this file): failure
 * messages and stack traces go into the failure's encoded attributes, a payload the codec
 * encrypts. Loaded by clients and workers and bundled into the workflow sandbox, so it imports
 * nothing but the SDK's common package.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
