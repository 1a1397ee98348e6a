"""Writes every csmetrics configuration deploy/ ships into OUT_DIR, one file each,
so a test can run `csmetrics config -c` on them: the image's default, the compose
trial's and the Kubernetes ConfigMap's csmetrics.yaml.
usage: extract_configs.py ROOT OUT_DIR"""
import os
import shutil
import sys

import yaml

root, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
shutil.copy(os.path.join(root, "deploy/container/csmetrics.yaml"), os.path.join(out, "container.yaml"))
shutil.copy(os.path.join(root, "deploy/compose/csmetrics.yaml"), os.path.join(out, "compose.yaml"))
with open(os.path.join(root, "deploy/kubernetes/configmap.yaml")) as f:
    configmap = yaml.safe_load(f)
with open(os.path.join(out, "kubernetes.yaml"), "w") as f:
    f.write(configmap["data"]["csmetrics.yaml"])
