/*
 * A README's TypeScript block merged into a source file the way a person follows "add this": the
 * block's imports are added (or their names added to an import of the same module), statements the file
 * already has anchor the ones after them, new statements go after the last anchor and after the file's
 * declarations of the names they use (`backend.add(...)` after `const backend = createBackend()`), and a
 * call the file already makes (e.g. `createApp({ features: [...] })`) gets the block's object properties
 * and array entries added to its own. Anything else that differs is a conflict: the README cannot be
 * applied as written.
 */
import ts from 'typescript';

interface Insertion {
  pos: number;
  text: string;
}

const squash = (text: string) => text.replace(/\s+/g, '').replace(/;$/, '');

function parse(text: string, fileName: string) {
  return ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
}

function findCall(node: ts.Node): ts.CallExpression | undefined {
  if (
    ts.isCallExpression(node) &&
    node.arguments.length > 0 &&
    ts.isObjectLiteralExpression(node.arguments[0])
  ) {
    return node;
  }
  return ts.forEachChild(node, findCall);
}

function findCallByCallee(
  node: ts.Node,
  callee: string,
): ts.CallExpression | undefined {
  if (
    ts.isCallExpression(node) &&
    node.expression.getText() === callee &&
    node.arguments.length > 0 &&
    ts.isObjectLiteralExpression(node.arguments[0])
  ) {
    return node;
  }
  return ts.forEachChild(node, child => findCallByCallee(child, callee));
}

/** Names a top-level statement declares (variables, functions, classes, enums). */
function declaredNames(statement: ts.Statement): string[] {
  const names: string[] = [];
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) {
      names.push(name.text);
    } else {
      name.elements.forEach(e => {
        if (!ts.isOmittedExpression(e)) {
          bind(e.name);
        }
      });
    }
  };
  if (ts.isVariableStatement(statement)) {
    statement.declarationList.declarations.forEach(d => bind(d.name));
  } else if (
    (ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement) ||
      ts.isEnumDeclaration(statement)) &&
    statement.name
  ) {
    names.push(statement.name.text);
  }
  return names;
}

/** Identifiers a statement refers to (not the property names after a dot). */
function usedNames(node: ts.Node, into = new Set<string>()): Set<string> {
  if (
    ts.isIdentifier(node) &&
    !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node)
  ) {
    into.add(node.text);
  }
  ts.forEachChild(node, child => {
    usedNames(child, into);
  });
  return into;
}

function propertyName(property: ts.ObjectLiteralElementLike): string {
  return property.name ? property.name.getText() : property.getText();
}

function propertyValue(
  property: ts.ObjectLiteralElementLike,
): ts.Expression | undefined {
  return ts.isPropertyAssignment(property) ? property.initializer : undefined;
}

export function mergeCode(
  target: string,
  block: string,
  fileName: string,
): string {
  const file = parse(target, fileName);
  const snippet = parse(block, fileName);
  const insertions: Insertion[] = [];
  const imports = file.statements.filter(ts.isImportDeclaration);
  const afterImports = imports.length ? imports[imports.length - 1].end : 0;
  let cursor = afterImports;

  const mergeObject = (
    into: ts.ObjectLiteralExpression,
    from: ts.ObjectLiteralExpression,
  ) => {
    for (const property of from.properties) {
      const name = propertyName(property);
      const existing = into.properties.find(p => propertyName(p) === name);
      if (!existing) {
        const last = into.properties[into.properties.length - 1];
        insertions.push(
          last
            ? { pos: last.end, text: `,\n  ${property.getText()}` }
            : { pos: into.getStart() + 1, text: `\n  ${property.getText()}\n` },
        );
        continue;
      }
      const want = propertyValue(property);
      const have = propertyValue(existing);
      if (
        want &&
        have &&
        ts.isArrayLiteralExpression(want) &&
        ts.isArrayLiteralExpression(have)
      ) {
        const present = new Set(have.elements.map(e => squash(e.getText())));
        const missing = want.elements.filter(
          e => !ts.isSpreadElement(e) && !present.has(squash(e.getText())),
        );
        if (missing.length > 0) {
          const text = missing.map(e => e.getText()).join(', ');
          const last = have.elements[have.elements.length - 1];
          insertions.push(
            last
              ? { pos: last.end, text: `, ${text}` }
              : { pos: have.getStart() + 1, text },
          );
        }
      } else if (
        want &&
        have &&
        ts.isObjectLiteralExpression(want) &&
        ts.isObjectLiteralExpression(have)
      ) {
        mergeObject(have, want);
      } else if (squash(property.getText()) !== squash(existing.getText())) {
        throw new Error(
          `"${name}" is already set differently in ${fileName}: ${existing.getText()}`,
        );
      }
    }
  };

  for (const statement of snippet.statements) {
    if (ts.isImportDeclaration(statement)) {
      const module = statement.moduleSpecifier.getText();
      const existing = imports.find(
        i => i.moduleSpecifier.getText() === module,
      );
      if (!existing) {
        insertions.push({
          pos: afterImports,
          text: `\n${statement.getText()}`,
        });
        continue;
      }
      const has = squash(existing.importClause?.getText() ?? '');
      const wantNamed = statement.importClause?.namedBindings;
      const haveNamed = existing.importClause?.namedBindings;
      const wantDefault = statement.importClause?.name?.getText();
      if (
        wantDefault &&
        existing.importClause?.name?.getText() !== wantDefault
      ) {
        throw new Error(
          `${fileName} already imports ${module} differently: ${existing.getText()}`,
        );
      }
      if (wantNamed && ts.isNamedImports(wantNamed)) {
        const missing = wantNamed.elements.filter(
          e => !has.includes(squash(e.getText())),
        );
        if (missing.length > 0) {
          if (
            !haveNamed ||
            !ts.isNamedImports(haveNamed) ||
            haveNamed.elements.length === 0
          ) {
            throw new Error(
              `cannot add names to ${existing.getText()} in ${fileName}`,
            );
          }
          const last = haveNamed.elements[haveNamed.elements.length - 1];
          insertions.push({
            pos: last.end,
            text: `, ${missing.map(e => e.getText()).join(', ')}`,
          });
        }
      }
      continue;
    }
    const same = file.statements.find(
      s => squash(s.getText()) === squash(statement.getText()),
    );
    if (same) {
      cursor = same.end;
      continue;
    }
    const call = findCall(statement);
    const targetCall =
      call && findCallByCallee(file, call.expression.getText());
    if (call && targetCall) {
      mergeObject(
        targetCall.arguments[0] as ts.ObjectLiteralExpression,
        call.arguments[0] as ts.ObjectLiteralExpression,
      );
      const owner = file.statements.find(
        s => s.pos <= targetCall.pos && targetCall.end <= s.end,
      );
      cursor = owner ? owner.end : cursor;
      continue;
    }
    // Never before a declaration it uses: a block that shows no anchor still lands after it.
    const uses = usedNames(statement);
    for (const declaration of file.statements) {
      if (declaredNames(declaration).some(name => uses.has(name))) {
        cursor = Math.max(cursor, declaration.end);
      }
    }
    insertions.push({ pos: cursor, text: `\n${statement.getText()}` });
  }

  // Insertions at one position keep their order; later positions first so earlier ones stay valid.
  const ordered = insertions
    .map((insertion, index) => ({ ...insertion, index }))
    .sort((a, b) => b.pos - a.pos || b.index - a.index);
  let out = target;
  for (const { pos, text } of ordered) {
    out = out.slice(0, pos) + text + out.slice(pos);
  }
  return out;
}
