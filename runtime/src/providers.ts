// Choosing an execution provider, shared by the Node and browser platforms: try each in order, skip
// the unavailable ones with a reason, and check that a session really computes (some providers load a
// model and then return zeros, e.g. WebGPU on an adapter without a feature the model needs). Pure.
import type { SessionLike } from './classifier.js';
import { ModelContractError } from './contract.js';
import { ExecutionProviderError } from './errors.js';

export interface ProviderChoice<P extends string> {
  /** 'auto' or the user's explicit list. */
  requested: 'auto' | P[];
  /** The order 'auto' tries. */
  autoOrder: P[];
  /** Why a provider cannot be used here, or undefined to try it. */
  unavailable: (provider: P) => Promise<string | undefined> | string | undefined;
  open: (provider: P) => Promise<SessionLike>;
  /** Runs the new session once; throws when its results are unusable. */
  probe: (session: SessionLike) => Promise<void>;
  /** Extra advice appended when a provider fails to load. */
  hint?: (provider: P) => string;
}

export function checkProviders<P extends string>(value: unknown, valid: readonly P[]): 'auto' | P[] {
  if (value === undefined || value === 'auto') return 'auto';
  if (!Array.isArray(value) || value.length === 0 || !value.every((p) => valid.includes(p))) {
    throw new RangeError(`Unsupported "executionProviders" ${JSON.stringify(value)}. Expected 'auto' or a list of: ${valid.join(', ')}.`);
  }
  return value as P[];
}

export async function openFirstUsable<P extends string>(choice: ProviderChoice<P>): Promise<{ session: SessionLike; executionProvider: P; reason: string | null }> {
  const order = choice.requested === 'auto' ? choice.autoOrder : choice.requested;
  const reasons: string[] = [];
  for (const provider of order) {
    let reason = await choice.unavailable(provider);
    if (reason === undefined) {
      let session: SessionLike | undefined;
      try {
        session = await choice.open(provider);
      } catch (error) {
        reason = `${provider} failed to load the model: ${(error as Error).message.split('\n')[0]}${choice.hint?.(provider) ?? ''}`;
      }
      if (session) {
        try {
          await choice.probe(session);
          return { session, executionProvider: provider, reason: reasons.length ? reasons.join('; ') : null };
        } catch (error) {
          await session.release();
          if (error instanceof ModelContractError) throw error;
          reason = `${provider} loaded the model but its results are unusable (${(error as Error).message})`;
        }
      }
    }
    if (choice.requested !== 'auto') throw new ExecutionProviderError(`Execution provider "${provider}" cannot run: ${reason}.`);
    reasons.push(reason as string);
  }
  throw new ExecutionProviderError(`No execution provider could run the model: ${reasons.join('; ')}.`);
}
