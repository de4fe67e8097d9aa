"""Run by tests/api/test_qgis.py under the system python3 (Debian's python3-qgis): opens
every named collection of the API with stock QGIS 3.22 as the README says (auth config
"Basic": user name + personal token), no plugins, and prints what QGIS read as JSON."""
import json
import os
import sys
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsDataSourceUri, QgsVectorLayer)
url, user, token, layers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
profile = tempfile.mkdtemp(prefix="qgis-profile-")
os.environ["QGIS_AUTH_DB_DIR_PATH"] = profile
app = QgsApplication([], False, profile)
app.initQgis()
auth = QgsApplication.authManager()
auth.setMasterPassword("uji-master", True)
cfg = QgsAuthMethodConfig("Basic")
cfg.setName("gisdesk")
cfg.setConfig("username", user)
cfg.setConfig("password", token)
assert auth.storeAuthenticationConfig(cfg)[0]
out = {}
for name in layers:
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", name)
    uri.setAuthConfigId(cfg.id())
    layer = QgsVectorLayer(uri.uri(False), name, "OAPIF")
    if not layer.isValid():
        out[name] = {"valid": False, "error": layer.error().summary()}
        continue
    feats = list(layer.getFeatures())
    fields = {f.name(): f.typeName() for f in layer.fields()}
    sample = {}
    if feats:
        for f in layer.fields():
            v = feats[0][f.name()]
            sample[f.name()] = type(v).__name__
    out[name] = {"valid": True, "count": len(feats), "fields": fields, "sample_types": sample,
                 "crs": layer.crs().authid()}
print(json.dumps(out), flush=True)
shutil.rmtree(profile, ignore_errors=True)
# QGIS 3.22 may crash while Python tears its objects down: leave before that
os._exit(0)
