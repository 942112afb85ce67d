"""The five papers. Each registers a light spec here; its code lives in its own module/folder."""
from mmfusion.registry import PaperSpec, register_paper

register_paper(PaperSpec(
    name="multimodal-fusion",
    title="Multimodal deep networks for breast lesion classification on CBIS-DDSM "
          "(concatenation, co-attention, cross-attention)",
    citation="arXiv:2508.16000 (builds on Vo et al. 2021, cross-attention multimodal breast lesion classification)",
    datasets=("cbis-ddsm",),
    tables={"Table 1": "image-only vs clinical-only vs best multimodal (AUC, F1, acc, P, R; bootstrap CI, McNemar)",
            "Table 2": "fusion ablation (concatenation, co-attention, cross-attention, gated, GMU, MFB, TFN)"},
    entry_point="mmfusion.papers.multimodal_fusion:reproduce",
    kaggle_datasets=("awsaf49/cbis-ddsm-breast-cancer-image-dataset",),
))
register_paper(PaperSpec(
    name="hmcnet",
    title="HMC-Net: ResNet50 + hierarchical self-attention + multi-scale cross-attention on MIAS",
    citation="Fatima et al. 2026, Frontiers in Oncology 16:1787210",
    datasets=("mias",),
    tables={"Table CV": "5-fold CV metrics of HMC-Net, baselines and ablations (mean ± std)",
            "Friedman": "Friedman test over models x folds with Nemenyi post-hoc"},
    entry_point="mmfusion.papers.hmcnet:reproduce",
    kaggle_datasets=("kmader/mias-mammography",),
))
register_paper(PaperSpec(
    name="effnetv2-smote",
    title="EfficientNetV2B0 + SMOTE + ROI extraction on BUSI and breast MRI with Grad-CAM",
    citation="EfficientNetV2B0 with SMOTE and Grad-CAM for breast ultrasound / MRI classification",
    datasets=("busi", "breast-mri"),
    tables={"Table 4": "MRI results", "Table 5": "BUSI B-M and B-M-N results",
            "Table 6": "ROI x normal-class ablation", "Table 7": "SMOTE on/off on BUSI",
            "Timings": "training time and per-image inference time"},
    entry_point="mmfusion.papers.effnetv2_smote:reproduce",
    kaggle_datasets=("aryashah2k/breast-ultrasound-images-dataset", "uzairkhan45/breast-cancer-patients-mris"),
))
register_paper(PaperSpec(
    name="ft-multicnn",
    title="Activation heatmap-guided FT-MultiCNN with patient metadata on HAM10000 / ISIC",
    citation="Shimbre & Solanki 2025, Ingenierie des Systemes d'Information 30(5), doi:10.18280/isi.300520",
    datasets=("ham10000", "isic2019"),
    tables={"Table Results": "FT-MultiCNN vs CNN, ResNet50, InceptionV3 (accuracy, P/R/F1 macro and weighted)"},
    entry_point="mmfusion.papers.ft_multicnn:reproduce",
    kaggle_datasets=("kmader/skin-cancer-mnist-ham10000",),
))
register_paper(PaperSpec(
    name="mias-xai",
    title="Interpretable breast cancer classification using CNNs on mammographic images "
          "(LIME vs Grad-CAM vs Kernel SHAP)",
    citation="Balve & Hendrix 2024, PMLR 248 (CHIL 2024), 410-426",
    datasets=("mias",),
    tables={"Table Runs": "test accuracy of 10 retrained models",
            "Table Metrics": "averaged macro P/R/F1, accuracy, balanced accuracy, per-class P/R/F1",
            "Table XAI": "LIME vs Grad-CAM vs Kernel SHAP: cost and quality (ours)"},
    entry_point="mmfusion.papers.mias_xai:reproduce",
    kaggle_datasets=("kmader/mias-mammography",),
))
