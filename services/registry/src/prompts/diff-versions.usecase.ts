import { Injectable } from '@nestjs/common';
import { diffSpecs, type SpecDiff } from './domain/spec-diff';
import { ResolveVersionUseCase } from './resolve-version.usecase';

interface VersionRef {
  hash: string;
  shortHash: string;
  version: number;
}

export interface DiffResponse extends SpecDiff {
  name: string;
  from: VersionRef;
  to: VersionRef;
}

@Injectable()
export class DiffVersionsUseCase {
  constructor(private readonly resolver: ResolveVersionUseCase) {}

  async execute(name: string, fromRef: string, toRef: string): Promise<DiffResponse> {
    const [{ version: from }, { version: to }] = await Promise.all([
      this.resolver.resolve(name, fromRef),
      this.resolver.resolve(name, toRef),
    ]);
    const diff = diffSpecs(from.spec, to.spec, {
      from: `${name}@${from.shortHash} (v${from.version})`,
      to: `${name}@${to.shortHash} (v${to.version})`,
    });
    const ref = (v: typeof from): VersionRef => ({
      hash: v.hash,
      shortHash: v.shortHash,
      version: v.version,
    });
    return { name, from: ref(from), to: ref(to), ...diff };
  }
}
