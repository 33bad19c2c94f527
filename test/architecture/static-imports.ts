// The packages a module loads at start: everything reachable from it through static imports, as
// the compiler emits them. Each file is transpiled first, so `import type`, `type` specifiers and
// imports used only as types (which TypeScript drops) do not count. `import()` of a package is
// loading on first use (src/aws/sdk.ts) and is not followed; `import()` of one of our own modules
// is (main.ts loads the server so, at start).
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2023,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  useDefineForClassFields: false,
};

/** The module specifiers of `file`'s static imports and re-exports after compilation, and of its import()s of relative paths. */
export function staticSpecifiers(file: string): string[] {
  const { outputText } = ts.transpileModule(fs.readFileSync(file, "utf8"), { compilerOptions: COMPILER_OPTIONS, fileName: file });
  const emitted = ts.createSourceFile(`${file}.js`, outputText, ts.ScriptTarget.ES2023, false, ts.ScriptKind.JS);
  const specifiers = emitted.statements.flatMap((statement) =>
    (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)
      ? [statement.moduleSpecifier.text]
      : [],
  );
  const visit = (node: ts.Node): void => {
    const [argument] = ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword ? node.arguments : [];
    if (argument && ts.isStringLiteral(argument) && argument.text.startsWith(".")) specifiers.push(argument.text);
    ts.forEachChild(node, visit);
  };
  visit(emitted);
  return specifiers;
}

/** "@scope/name/deep" → "@scope/name", "name/deep" → "name". */
const packageOf = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

/**
 * Every package (builtins aside) that importing `entry` loads through static imports of its own
 * .ts files, each with the chain of files (relative to `root`) by which the first import of it is reached.
 */
export function staticPackages(entry: string, root = path.dirname(entry)): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set([entry]);
  const queue: { file: string; chain: string[] }[] = [{ file: entry, chain: [path.relative(root, entry)] }];
  while (queue.length) {
    const { file, chain } = queue.shift()!;
    for (const specifier of staticSpecifiers(file)) {
      if (!specifier.startsWith(".")) {
        if (!specifier.startsWith("node:") && !packages.has(packageOf(specifier))) packages.set(packageOf(specifier), chain);
        continue;
      }
      const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts");
      if (seen.has(target) || !target.endsWith(".ts")) continue;
      seen.add(target);
      queue.push({ file: target, chain: [...chain, path.relative(root, target)] });
    }
  }
  return packages;
}
