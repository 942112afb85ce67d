"""Paper ft-multicnn (Shimbre & Solanki 2025, ISI 30(5), doi:10.18280/isi.300520): a 128 px
three-block CNN beside a 7-feature patient-metadata branch, fed raw images, Grad-CAM heatmaps or
heatmap overlays, on HAM10000 / ISIC 2019."""
from mmfusion.kaggle.kernels import Kernel
from mmfusion.registry import PaperSpec

SPEC = PaperSpec("ft-multicnn", datasets=("ham10000", "isic2019"), kernels=(
    Kernel("ft-multicnn", "Shimbre & Solanki 2025: FT-MultiCNN on HAM10000", "ham10000",
           archs=("resnet50", "inceptionv3"),
           extras={"albumentations": "albumentations", "cv2": "opencv-python-headless"}),))
