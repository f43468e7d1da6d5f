// A throw-away certificate authority and server certificates, made with the openssl
// command in a temporary folder, for serving the emulator over HTTPS
// (`startEmulator({ tls: { key, cert } })`) and trusting it with NODE_EXTRA_CA_CERTS.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** EC P-256 keys: generated in a few milliseconds, where RSA takes far longer. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface ServerCertificate {
  /** PEM texts, as `startEmulator({ tls })` takes them. */
  key: string;
  cert: string;
  keyPath: string;
  certPath: string;
  /** The DNS names and IP addresses the certificate is valid for. */
  names: string[];
}

export interface TestCa {
  dir: string;
  /** The CA certificate: point NODE_EXTRA_CA_CERTS here to trust what it issued. */
  caPath: string;
  caPem: string;
  /** A server certificate signed by this CA, valid for `names` (default localhost and 127.0.0.1). */
  issue(names?: string[]): Promise<ServerCertificate>;
  /** Removes the folder and everything in it. */
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 20_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
  }
}

export async function makeTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'kash-tls-'));
  const caPath = join(dir, 'ca.pem');
  await openssl(
    [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=kash test CA (throw-away)',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const caPem = await readFile(caPath, 'utf8');
  let serial = 0;

  return {
    dir,
    caPath,
    caPem,
    async issue(names = ['localhost', '127.0.0.1']) {
      const n = ++serial;
      const base = `server-${n}`;
      const san = names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
      await writeFile(
        join(dir, `${base}.ext`),
        [
          `subjectAltName=${san}`,
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          '',
        ].join('\n'),
      );
      await openssl(
        [
          'req',
          '-new',
          ...NEW_KEY,
          '-keyout',
          `${base}.key`,
          '-out',
          `${base}.csr`,
          '-subj',
          `/CN=${names[0] ?? 'server'}`,
        ],
        dir,
      );
      await openssl(
        [
          'x509',
          '-req',
          '-in',
          `${base}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-set_serial',
          String(1000 + n),
          '-days',
          '2',
          '-extfile',
          `${base}.ext`,
          '-out',
          `${base}.pem`,
        ],
        dir,
      );
      const keyPath = join(dir, `${base}.key`);
      const certPath = join(dir, `${base}.pem`);
      const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
      return { key, cert, keyPath, certPath, names };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A CA and one server certificate for localhost and 127.0.0.1, in one call. */
export async function makeTestTls(names?: string[]): Promise<{ ca: TestCa; server: ServerCertificate }> {
  const ca = await makeTestCa();
  return { ca, server: await ca.issue(names) };
}
