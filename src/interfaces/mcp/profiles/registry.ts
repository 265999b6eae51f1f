import { ConfigError } from '../../../config.js';
import { cegidProfile } from './cegid.js';
import { customersProfile } from './customers.js';
import type { Profile } from './define.js';
import { lagoProfile } from './lago.js';
import { marginfrontProfile } from './marginfront.js';
import { orvionProfile } from './orvion.js';

/** The profiles, in the order of the seed documents; `billfold` (the catalogue itself) comes first. */
export const PROFILES: readonly Profile[] = [
  lagoProfile,
  orvionProfile,
  marginfrontProfile,
  customersProfile,
  cegidProfile,
];

/** The default surface: the operation catalogue as it is. */
export const DEFAULT_PROFILE = 'billfold';

export const PROFILE_NAMES: readonly string[] = [DEFAULT_PROFILE, ...PROFILES.map((p) => p.name)];

/** The profile of that name; undefined for `billfold` and for names that are no profile. */
export function findProfile(name: string): Profile | undefined {
  return PROFILES.find((p) => p.name === name);
}

export function isProfileName(name: string): boolean {
  return PROFILE_NAMES.includes(name);
}

/** Stops a start with a profile that does not exist, naming the setting. */
export function checkProfile(name: string, setting = 'BILLFOLD_PROFILE'): void {
  if (!isProfileName(name)) {
    throw new ConfigError(
      `${setting}: there is no profile '${name}'; the profiles are ${PROFILE_NAMES.join(', ')}`,
    );
  }
}
