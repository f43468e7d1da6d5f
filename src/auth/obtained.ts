import type { Credentials } from '../api/answers.js';

/** What a login got from the service (or, for a pasted key, from the person), before it is saved or printed. */
export interface Obtained {
  credentials: Credentials;
  method: 'password' | 'otp' | 'key';
  login: string | null;
  email: string | null;
  shopTitle: string | null;
}
