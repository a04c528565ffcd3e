/**
 * Docker cannot run on the project's CI machines, so this test reads deploy/docker/Dockerfile and
 * package.json: the image builds the services to JavaScript and runs the built output, its runtime
 * stage installs production dependencies only, and every package a service loads at runtime is one
 * of them (nothing a service imports is a devDependency), while no compiler or transpiler is.
 */
import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'deploy/docker/Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** The workspace's import aliases (`@llmops/<lib>` → `libs/<lib>/src/index.ts`). */
const tsPaths = (
  JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  }
).compilerOptions.paths;
const nx = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')) as {
  targetDefaults: { build: { options: { command: string } } };
};
const SERVICES = ['registry', 'assignment', 'feedback', 'analytics', 'identity', 'datasets'];
/** Node flags a service's image runs with besides source maps (datasets: see its README). */
const NODE_FLAGS: Record<string, string[]> = { datasets: ['--optimize-for-size'] };
const COMPILERS = ['typescript', '@swc/core', '@swc/cli', '@swc-node/register', 'ts-node', 'tsx', 'esbuild'];

/** Each `FROM <image> AS <name>` stage and its instructions, one logical line each. */
const stages = new Map<string, string[]>();
let current: string[] = [];
for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
  const from = /^FROM \S+ AS (\S+)$/.exec(line);
  if (from) stages.set(from[1], (current = []));
  else if (line.trim() !== '' && !line.startsWith('#')) current.push(line);
}

/**
 * The packages a service loads at runtime: the bare imports (not `import type`) of every module
 * reachable from its main.ts through relative and @llmops/* imports.
 */
function runtimePackages(service: string): Set<string> {
  const aliases = Object.fromEntries(
    Object.entries(tsPaths)
      .filter(([, [target]]) => target.startsWith('libs/'))
      .map(([alias, [target]]) => [alias, join(root, target)]),
  );
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const specifiers: string[] = [];
    const walk = (node: ts.Node): void => {
      if (
        (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) ||
        (ts.isExportDeclaration(node) && !node.isTypeOnly)
      ) {
        if (node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
          specifiers.push(node.moduleSpecifier.text);
      } else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
          (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
        node.arguments[0] &&
        ts.isStringLiteral(node.arguments[0])
      ) {
        specifiers.push(node.arguments[0].text);
      }
      ts.forEachChild(node, walk);
    };
    walk(ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022));
    for (const spec of specifiers) {
      if (spec.startsWith('.')) {
        const base = join(dirname(file), spec);
        const target = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
        if (target) visit(target);
      } else if (aliases[spec]) {
        visit(aliases[spec]);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    }
  };
  visit(join(root, 'services', service, 'src', 'main.ts'));
  return packages;
}

describe('deploy/docker/Dockerfile', () => {
  it('builds the services to JavaScript in a build stage, from the files the build reads', () => {
    const build = stages.get('build')!;
    expect(build).toContain('RUN npm ci --no-audit --no-fund');
    expect(build).toContain('RUN npm run build');
    expect(pkg.scripts.build).toMatch(/^nx run-many -t build\b/);
    // The build command's config file (swc.build.json) and the Nx workspace files are copied in.
    const configFile = /--config-file (\S+)/.exec(nx.targetDefaults.build.options.command)![1];
    const copied = build.filter((l) => l.startsWith('COPY ')).join(' ');
    for (const file of ['package.json', 'package-lock.json', 'nx.json', configFile, 'libs', 'services']) {
      expect({ file, copied: copied.split(' ').includes(file) }).toEqual({ file, copied: true });
    }
  });

  it('installs production dependencies only in the runtime stage, and copies no sources into it', () => {
    const base = stages.get('base')!;
    expect(base.filter((l) => l.startsWith('RUN npm '))).toEqual([
      'RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force',
    ]);
    expect(base).toContain('ENV NODE_ENV=production TZ=UTC');
    const copies = base.filter((l) => l.startsWith('COPY '));
    expect(copies).toEqual([
      'COPY package.json package-lock.json ./',
      'COPY --from=build /app/dist/libs ./dist/libs',
    ]);
  });

  it.each(SERVICES)('runs the built %s with source maps', (name) => {
    const stage = stages.get(name)!;
    expect(stage).toContain(`COPY --from=build /app/dist/services/${name} ./dist/services/${name}`);
    const cmd = stage.find((l) => l.startsWith('CMD '))!;
    const args = JSON.parse(cmd.slice(4)) as string[];
    expect(args).toEqual([
      'node',
      '--enable-source-maps',
      ...(NODE_FLAGS[name] ?? []),
      `dist/services/${name}/src/main.js`,
    ]);
    // The build writes dist/<project root>/src/*.js from <project root>/src/*.ts.
    expect(nx.targetDefaults.build.options.command).toContain('swc {projectRoot}/src --out-dir dist');
    expect(existsSync(join(root, 'services', name, 'src', 'main.ts'))).toBe(true);
  });
});

describe('production dependencies', () => {
  it('include no compiler or transpiler', () => {
    expect(COMPILERS.filter((name) => name in pkg.dependencies)).toEqual([]);
  });

  it.each(SERVICES)('include every package the %s service loads at runtime', (name) => {
    const packages = [...runtimePackages(name)];
    expect(packages.length).toBeGreaterThan(5);
    expect(packages.filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});
