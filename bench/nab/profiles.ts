import { readFileSync } from 'node:fs'

/** One NAB cost profile: the weights of a true positive, a missed window and a false positive. */
export interface CostProfile {
  readonly name: string
  readonly tpWeight: number
  readonly fnWeight: number
  readonly fpWeight: number
}

export const PROFILE_NAMES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const
export type ProfileName = (typeof PROFILE_NAMES)[number]

interface ProfilesFile {
  [name: string]: { CostMatrix?: { tpWeight?: number; fnWeight?: number; fpWeight?: number } }
}

/** Reads NAB's `config/profiles.json`; every profile named in {@link PROFILE_NAMES} must be there. */
export function loadProfiles(file: string): Record<ProfileName, CostProfile> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as ProfilesFile
  const out = {} as Record<ProfileName, CostProfile>
  for (const name of PROFILE_NAMES) {
    const m = raw[name]?.CostMatrix
    if (!m || typeof m.tpWeight !== 'number' || typeof m.fnWeight !== 'number' || typeof m.fpWeight !== 'number') {
      throw new Error(`${file}: profile "${name}" needs CostMatrix.tpWeight, fnWeight and fpWeight numbers`)
    }
    out[name] = { name, tpWeight: m.tpWeight, fnWeight: m.fnWeight, fpWeight: m.fpWeight }
  }
  return out
}
