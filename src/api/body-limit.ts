import { ExitCode, KashError } from '../errors.js';

export const MAX_ANSWER_BYTES = 1024 * 1024;

const tooLarge = (where: string) =>
  new KashError(ExitCode.service, `${where} sent an answer over 1 MiB; refusing to read it`, {
    hint: 'Check --base-url / KASH_BASE_URL points at the kash.click service.',
  });

/** Reads the body as UTF-8, up to 1 MiB: it stops as soon as the body passes that, rather than buffering it all. */
export async function readAtMost1MiB(response: Response, where: string, limit = MAX_ANSWER_BYTES): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) {
    await response.body?.cancel();
    throw tooLarge(where);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(where);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
