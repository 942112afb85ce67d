"""The five papers. Each registers its name, package and datasets here; title, citation and tables
come from papers/<name>.yaml, the protocol from mmfusion/papers/<package>/pipeline.py."""
from mmfusion.registry import PaperSpec, register_paper

register_paper(PaperSpec("multimodal-fusion", "multimodal_fusion", ("cbis-ddsm",),
                         ("awsaf49/cbis-ddsm-breast-cancer-image-dataset",)))
register_paper(PaperSpec("hmcnet", "hmcnet", ("mias",), ("kmader/mias-mammography",)))
register_paper(PaperSpec("effnetv2-smote", "effnetv2_smote", ("busi", "breast-mri"),
                         ("aryashah2k/breast-ultrasound-images-dataset",
                          "uzairkhan45/breast-cancer-patients-mris")))
register_paper(PaperSpec("ft-multicnn", "ft_multicnn", ("ham10000", "isic2019"),
                         ("kmader/skin-cancer-mnist-ham10000",)))
register_paper(PaperSpec("mias-xai", "mias_xai", ("mias",), ("kmader/mias-mammography",)))
