/** Errors as plain data and back, for results that cross a wire (a remote driver's answers). */
import { OobError, OobErrorCode } from '../errors';

export interface ErrorData {
  code?: string;
  message: string;
}

export function errorData(e: Error): ErrorData {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? { code, message: e.message } : { message: e.message };
}

/** An OobError again (CLOSED when the data has no code of ours), with the message it had. */
export function errorFromData(d: ErrorData, fallback: OobErrorCode = 'CLOSED'): OobError {
  return new OobError((d.code as OobErrorCode | undefined) ?? fallback, d.message);
}
